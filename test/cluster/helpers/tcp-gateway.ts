/**
 * TEST TRANSPORT, not shipped: a gateway over TCP (4-byte big-endian length, then the message),
 * so a client in the test process can reach a proxy running in another process. Reliable and
 * ordered; no encryption.
 */
import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import type { Gateway, GatewayAddress, GatewayHandler, GatewayListener, PlayerConnection, ProxyLink } from '../../../ts/cluster/index.js';

function framer(onFrame: (b: Uint8Array) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) break;
      onFrame(new Uint8Array(buf.subarray(4, 4 + len)));
      buf = buf.subarray(4 + len);
    }
  };
}

function frame(bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([head, Buffer.from(bytes)]);
}

let tokens = 1;

export function createTcpGateway(): Gateway {
  return {
    name: 'tcp',
    async listen(addr: GatewayAddress, handler: GatewayHandler): Promise<GatewayListener> {
      const sockets = new Set<Socket>();
      const server = createServer((sock) => {
        sockets.add(sock);
        let gone = false;
        const conn: PlayerConnection = {
          token: tokens++,
          send: (b) => {
            if (!gone) sock.write(frame(b));
          },
          disconnect: () => sock.end(),
        };
        sock.setNoDelay(true);
        handler.onConnect(conn);
        sock.on('data', framer((b) => handler.onMessage(conn, b)));
        sock.on('error', () => undefined);
        sock.on('close', () => {
          gone = true;
          sockets.delete(sock);
          handler.onDisconnect(conn);
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(addr.port, addr.host, () => resolve());
      });
      const a = server.address() as { address: string; port: number };
      return {
        address: { host: addr.host, port: a.port },
        close: () =>
          new Promise<void>((resolve) => {
            for (const s of sockets) s.destroy();
            server.close(() => resolve());
          }),
      };
    },
    createLink(): ProxyLink {
      let sock: Socket | null = null;
      const onMsg: Array<(b: Uint8Array) => void> = [];
      const onClose: Array<(r: string) => void> = [];
      let closed = false;
      const fireClose = (r: string) => {
        if (closed) return;
        closed = true;
        for (const l of onClose) l(r);
      };
      return {
        connect: (host, port) =>
          new Promise<void>((resolve, reject) => {
            const s = tcpConnect({ host, port }, () => {
              s.off('error', reject);
              s.on('error', () => undefined);
              resolve();
            });
            s.setNoDelay(true);
            s.once('error', reject);
            s.on('data', framer((b) => onMsg.forEach((l) => l(b))));
            s.on('close', () => fireClose('connection closed'));
            sock = s;
          }),
        send: (b) => {
          if (sock && !closed) sock.write(frame(b));
        },
        onMessage: (l) => void onMsg.push(l),
        onClose: (l) => void onClose.push(l),
        close: async () => {
          if (!sock) return fireClose('closed by client');
          const s = sock;
          await new Promise<void>((r) => {
            if (closed) return r();
            s.once('close', () => r());
            s.end();
          });
        },
      };
    },
  };
}
