/**
 * A raw WebSocket client for bad-input tests: a `ws` connection to the server's WebSocket endpoint
 * that can send any bytes, and that also relays a local UDP port onto itself, so a real
 * `UdpClient` can run the protocol over this very connection (each UDP datagram one binary
 * message, each message back one datagram). Every datagram the client sent is recorded, to be
 * replayed.
 */
import { createSocket } from 'node:dgram';
import { WebSocket } from 'ws';

export interface WsRelay {
  ws: WebSocket;
  /** The local UDP port a UdpClient connects to. */
  port: number;
  /** Datagrams the UdpClient sent through the relay, in order. */
  sent: Buffer[];
  /** The close code, once the server closed the connection. */
  closeCode: number | null;
  /** Sends raw bytes as one binary message (or a text message). */
  sendRaw(bytes: Uint8Array | string): void;
  close(): Promise<void>;
}

export async function wsRelay(url: string): Promise<WsRelay> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  let client: { port: number; address: string } | null = null;
  const relay: WsRelay = {
    ws,
    port: udp.address().port,
    sent: [],
    closeCode: null,
    sendRaw: (bytes) => ws.send(bytes, { binary: typeof bytes !== 'string' }),
    close: async () => {
      udp.close();
      if (ws.readyState === ws.CLOSED) return;
      await new Promise<void>((r) => {
        ws.once('close', () => r());
        ws.close();
      });
    },
  };
  udp.on('message', (msg, rinfo) => {
    client = { port: rinfo.port, address: rinfo.address };
    relay.sent.push(Buffer.from(msg));
    if (ws.readyState === ws.OPEN) ws.send(msg, { binary: true });
  });
  ws.on('message', (data: Buffer) => {
    if (client) udp.send(data, client.port, client.address);
  });
  ws.on('error', () => undefined);
  ws.once('close', (code: number) => (relay.closeCode = code));
  return relay;
}

/** Tries to open a WebSocket; resolves with the HTTP status of a refused upgrade, or 101. */
export function upgradeStatus(url: string): Promise<{ status: number; ws: WebSocket | null }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, ws: null });
      res.resume();
    });
    ws.once('error', (err) => {
      if (ws.readyState !== ws.OPEN) reject(err);
    });
  });
}
