/**
 * The interface between a game server and a datagram transport that is not its UDP socket
 * (WebSocket here in JavaScript; WebTransport lives in the native addon). A transport carries
 * gamewire datagrams, unchanged, over connections it identifies by keys; the server maps each key
 * to an engine peer id, exactly as it maps a UDP address.
 */

/** The remote end of a transport connection (as the transport sees it; may be a proxy). */
export interface TransportRemote {
  host: string;
  port: number;
}

/** What a transport reports to its server. Called on the event loop; must not throw. */
export interface TransportHandlers {
  /** A connection opened. `key` is unique for the transport's life and never reused. */
  onOpen(key: number, remote: TransportRemote): void;
  /** One gamewire datagram arrived on a connection (the bytes are the handler's to keep). */
  onDatagram(key: number, bytes: Uint8Array): void;
  /** A connection ended (either side, or an error). Nothing more arrives for `key`. */
  onClose(key: number): void;
}

/** A datagram transport as a server drives it. */
export interface DatagramTransport {
  /** Which transport this is (what `ClientHandle.transport` reports). */
  readonly kind: 'websocket' | 'webtransport';
  /**
   * Sends one datagram; the bytes are copied before this returns, so the caller may reuse its
   * buffer. Returns false when it was dropped (unknown or closing connection, or the connection's
   * send buffer is over its limit): datagrams may be lost, the protocol recovers.
   */
  send(key: number, bytes: Uint8Array): boolean;
  /** Closes one connection; its `onClose` follows. */
  close(key: number): void;
  /** Closes every connection and stops accepting; resolves once closed. Idempotent. */
  stop(): Promise<void>;
}
