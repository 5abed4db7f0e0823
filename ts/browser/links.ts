/**
 * The browser's two ways to a gamewire server. Each carries gamewire datagrams unchanged:
 *
 * - WebTransport (HTTP/3): one WebTransport datagram per gamewire datagram when it fits
 *   `datagrams.maxDatagramSize`; a larger one (gamewire packets are up to 1472 bytes, QUIC
 *   datagrams about 1200 on most paths) as a frame (2-byte big-endian length, then the bytes) on
 *   a unidirectional stream, one per direction and session, opened when first needed.
 * - WebSocket: one binary message per datagram.
 *
 * Either may lose datagrams (full buffers drop them); the protocol's acks and retries recover.
 */
import { GamewireError, TimeoutError } from '../errors.js';

/** An open link to the server. */
export interface Link {
  readonly kind: 'webtransport' | 'websocket';
  /** Sends one datagram (copied before this returns). */
  send(bytes: Uint8Array): void;
  /** Closes the link; `onClose` is not called for a close asked for here. */
  close(): void;
  /** Set by the owner: a datagram arrived. */
  onDatagram: (bytes: Uint8Array) => void;
  /** Set by the owner: the link ended by itself (server gone, network error). */
  onClose: (why: string) => void;
}

/** Largest frame accepted on a WebTransport stream (the engine takes datagrams up to 2048). */
const MAX_FRAME = 2048;
/** Unsent WebSocket bytes past which datagrams are dropped instead of queued. */
const WS_MAX_BUFFERED = 256 * 1024;

function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      onTimeout();
      reject(new TimeoutError(`${what} timed out after ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/** Hex (64 characters, `:` separators allowed) or bytes to the 32 bytes of a SHA-256 hash. */
export function hashBytes(h: string | Uint8Array): Uint8Array {
  if (h instanceof Uint8Array) {
    if (h.length !== 32) throw new GamewireError('ERR_INVALID_ARG', `serverCertificateHashes: a SHA-256 hash is 32 bytes, got ${h.length}`);
    return h;
  }
  const hex = String(h).replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new GamewireError('ERR_INVALID_ARG', `serverCertificateHashes: not a SHA-256 hash in hex: ${JSON.stringify(h)}`);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Whether this browser has WebTransport. */
export function hasWebTransport(): boolean {
  return typeof (globalThis as { WebTransport?: unknown }).WebTransport === 'function';
}

/** Opens a WebTransport session to `url` (https://host:port/path). */
export async function openWebTransport(url: string, hashes: Uint8Array[], timeoutMs: number): Promise<Link> {
  if (!hasWebTransport()) throw new GamewireError('ERR_CONNECT', 'this browser has no WebTransport');
  const options: WebTransportOptions = hashes.length
    ? { serverCertificateHashes: hashes.map((value) => ({ algorithm: 'sha-256', value: value as BufferSource })) }
    : {};
  const wt = new WebTransport(url, options);
  // A session that never opens rejects `ready` and `closed`; `closed` is watched below.
  wt.closed.catch(() => undefined);
  try {
    await withTimeout(wt.ready, timeoutMs, `WebTransport to ${url}`, () => wt.close());
  } catch (err) {
    throw err instanceof TimeoutError ? err : new GamewireError('ERR_CONNECT', `WebTransport to ${url} failed: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
  return new WebTransportLink(wt);
}

class WebTransportLink implements Link {
  readonly kind = 'webtransport' as const;
  onDatagram: (bytes: Uint8Array) => void = () => undefined;
  onClose: (why: string) => void = () => undefined;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private stream: WritableStreamDefaultWriter<Uint8Array> | null = null;
  private opening: Promise<void> | null = null;
  private readonly pendingFrames: Uint8Array[] = [];
  private closedHere = false;

  constructor(private readonly wt: WebTransport) {
    this.writer = wt.datagrams.writable.getWriter();
    this.writer.closed.catch(() => undefined);
    void this.readDatagrams();
    void this.readStreams();
    wt.closed.then(
      () => this.ended('the server closed the session'),
      (err: unknown) => this.ended(`the session failed: ${(err as Error).message ?? String(err)}`),
    );
  }

  private ended(why: string): void {
    if (this.closedHere) return;
    this.closedHere = true;
    this.onClose(why);
  }

  send(bytes: Uint8Array): void {
    if (this.closedHere) return;
    const max = this.wt.datagrams.maxDatagramSize;
    if (bytes.length <= max) {
      // Not awaited: a full queue drops datagrams (the browser's own rule), which is fine here.
      this.writer.write(bytes.slice()).catch(() => undefined);
      return;
    }
    const frame = new Uint8Array(bytes.length + 2);
    frame[0] = bytes.length >> 8;
    frame[1] = bytes.length & 0xff;
    frame.set(bytes, 2);
    if (this.stream) {
      this.stream.write(frame).catch(() => undefined);
      return;
    }
    this.pendingFrames.push(frame);
    this.opening ??= this.wt.createUnidirectionalStream().then(
      (s) => {
        this.stream = s.getWriter();
        this.stream.closed.catch(() => undefined);
        for (const f of this.pendingFrames.splice(0)) this.stream.write(f).catch(() => undefined);
      },
      () => undefined,
    );
  }

  close(): void {
    if (this.closedHere) return;
    this.closedHere = true;
    try {
      this.wt.close({ closeCode: 0, reason: 'client disconnect' });
    } catch {
      // already closed
    }
  }

  private async readDatagrams(): Promise<void> {
    const reader = this.wt.datagrams.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        if (value && !this.closedHere) this.onDatagram(value);
      }
    } catch {
      // the session ended; `closed` reports it
    }
  }

  private async readStreams(): Promise<void> {
    const streams = this.wt.incomingUnidirectionalStreams.getReader();
    try {
      for (;;) {
        const { value, done } = await streams.read();
        if (done) return;
        void this.readFrames(value as ReadableStream<Uint8Array>);
      }
    } catch {
      // the session ended
    }
  }

  /** Parses frames (2-byte big-endian length, then the bytes) from a stream until it ends. */
  private async readFrames(stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = stream.getReader();
    let buf = new Uint8Array(0);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const joined = new Uint8Array(buf.length + value.length);
        joined.set(buf);
        joined.set(value, buf.length);
        let at = 0;
        while (joined.length - at >= 2) {
          const n = (joined[at] << 8) | joined[at + 1];
          if (n === 0 || n > MAX_FRAME) {
            // Not this protocol: drop the session rather than guess.
            this.close();
            this.onClose(`a frame of ${n} bytes on a stream`);
            return;
          }
          if (joined.length - at - 2 < n) break;
          if (!this.closedHere) this.onDatagram(joined.subarray(at + 2, at + 2 + n));
          at += 2 + n;
        }
        buf = joined.slice(at);
      }
    } catch {
      // the stream or the session ended
    }
  }
}

/** Opens a WebSocket to `url` (ws:// or wss://). */
export async function openWebSocket(url: string, timeoutMs: number): Promise<Link> {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new GamewireError('ERR_CONNECT', `WebSocket to ${url} failed`));
      ws.onclose = (e) => reject(new GamewireError('ERR_CONNECT', `WebSocket to ${url} closed (${e.code}) before it opened`));
    }),
    timeoutMs,
    `WebSocket to ${url}`,
    () => ws.close(),
  );
  return new WebSocketLink(ws);
}

class WebSocketLink implements Link {
  readonly kind = 'websocket' as const;
  onDatagram: (bytes: Uint8Array) => void = () => undefined;
  onClose: (why: string) => void = () => undefined;
  private closedHere = false;

  constructor(private readonly ws: WebSocket) {
    ws.onmessage = (e: MessageEvent) => {
      // A text message is not this protocol: ignored (the server never sends one).
      if (e.data instanceof ArrayBuffer && !this.closedHere) this.onDatagram(new Uint8Array(e.data));
    };
    ws.onerror = () => undefined;
    ws.onclose = (e: CloseEvent) => {
      if (this.closedHere) return;
      this.closedHere = true;
      this.onClose(`the WebSocket closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`);
    };
  }

  send(bytes: Uint8Array): void {
    if (this.closedHere || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > WS_MAX_BUFFERED) return; // dropped, as a datagram may be
    // `send` copies a view's bytes at the call (the engine's output buffer is reused).
    this.ws.send(bytes);
  }

  close(): void {
    if (this.closedHere) return;
    this.closedHere = true;
    this.ws.close(1000, 'client disconnect');
  }
}
