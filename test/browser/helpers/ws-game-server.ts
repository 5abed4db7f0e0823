/**
 * A gamewire server for browser tests, assembled from parts: the backend's server engine, the
 * engine driver of the UDP path, and the WebSocket endpoint, each WebSocket connection one engine
 * peer. (UdpServer will do the same once the transports are wired in; this is the test's own.)
 */
import type { Socket } from 'node:dgram';
import { loadBackend, type BackendName } from '../../../ts/backend/index.js';
import { flatConfig } from '../../../ts/net/config.js';
import { RetryMode, type CloseReason } from '../../../ts/net/constants.js';
import { clock, EngineDriver, type PeerRoute } from '../../../ts/net/driver.js';
import { PrivateKey } from '../../../ts/net/keys.js';
import { WebSocketEndpoint } from '../../../ts/net/transports/websocket.js';
import { captureLogs } from '../../helpers/logs.js';

/** What the page sends: JSON `{ i, mode }`, padded with `pad` bytes. The server answers in that mode. */
export interface Probe {
  i: number;
  mode: RetryMode;
  pad?: number;
}

export async function startWsGameServer(backend: BackendName) {
  const b = loadBackend({ backend });
  const key = PrivateKey.generate({ backend });
  const engine = b.createServer(flatConfig(b, {}, Date.now() - clock()), key.pkcs8);
  const logs = captureLogs();
  const peerOfKey = new Map<number, number>();
  const keyOfPeer = new Map<number, number>();
  let nextPeer = 0;
  const connected: { peer: number; token: number }[] = [];
  const disconnected: { peer: number; reason: CloseReason }[] = [];
  const received: { peer: number; probe: Probe; length: number }[] = [];
  /** Callback calls per probe `i` of the server's replies. */
  const replyCallbacks = new Map<number, boolean[]>();
  let ep: WebSocketEndpoint | null = null;
  // The driver sends through `route.socket.send(buf, off, len, port, address, done)`; this one
  // hands the bytes to the WebSocket endpoint (which copies them) and completes at once.
  const routeOf = (peer: number): PeerRoute | undefined => {
    const k = keyOfPeer.get(peer);
    if (k === undefined || !ep) return undefined;
    const socket = {
      send: (buf: Uint8Array, off: number, len: number, _port: number, _addr: string, done: () => void) => {
        ep?.send(k, buf.subarray(off, off + len));
        done();
      },
    } as unknown as Socket;
    return { socket, address: '', port: 0 };
  };
  const driver: EngineDriver = new EngineDriver(engine, routeOf, {
    connected: (peer, token) => void connected.push({ peer, token }),
    message: (peer, _seq, data) => {
      const text = new TextDecoder().decode(data);
      const probe = JSON.parse(text.slice(0, text.indexOf('}') + 1)) as Probe;
      received.push({ peer, probe, length: data.length });
      const id = driver.callbackId((acked) => {
        const calls = replyCallbacks.get(probe.i) ?? [];
        calls.push(acked);
        replyCallbacks.set(probe.i, calls);
      });
      const reply = new Uint8Array(data.length + 3);
      reply.set(new TextEncoder().encode('re:'));
      reply.set(data, 3);
      engine.send(clock(), peer, reply, probe.mode, id);
    },
    disconnected: (peer, reason) => void disconnected.push({ peer, reason }),
    released: (peer) => {
      const k = keyOfPeer.get(peer);
      keyOfPeer.delete(peer);
      if (k !== undefined) {
        peerOfKey.delete(k);
        ep?.close(k);
      }
    },
  }, logs.logger);
  ep = await WebSocketEndpoint.start({
    host: '127.0.0.1',
    port: 0,
    logger: logs.logger,
    handlers: {
      onOpen: (k) => {
        const peer = nextPeer++;
        peerOfKey.set(k, peer);
        keyOfPeer.set(peer, k);
      },
      onDatagram: (k, bytes) => {
        const peer = peerOfKey.get(k);
        if (peer !== undefined) driver.receive(peer, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      },
      // The transport is gone: the connection goes too (no DISCONNECT can reach the client).
      onClose: (k) => {
        const peer = peerOfKey.get(k);
        if (peer !== undefined) {
          engine.disconnect(clock(), peer);
          driver.pump();
        }
      },
    },
  });
  const ticker = setInterval(() => {
    driver.flush();
    engine.tick(clock());
    driver.pump();
  }, 5);
  return {
    url: `ws://127.0.0.1:${ep.address!.port}/gamewire`,
    publicKeyPem: key.publicKey({ backend }).toPem({ backend }),
    endpoint: ep,
    engine,
    connected,
    disconnected,
    received,
    replyCallbacks,
    logs,
    async stop() {
      clearInterval(ticker);
      engine.abortAll();
      driver.close();
      await ep?.stop();
    },
  };
}
