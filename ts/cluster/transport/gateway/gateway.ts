/**
 * The seam between the cluster and the transport players connect over.
 *
 * The cluster's player logic (the proxy role's sessions, the game client) depends only on the
 * small interfaces below, never on sockets. A `Gateway` provides both sides: `listen()` for a
 * proxy node, `createLink()` for a client. The shipped implementation is the encrypted UDP
 * gateway (udp-gateway.ts); other transports (an in-memory one for tests, TCP, WebSocket) fit the
 * same interfaces.
 *
 * What the cluster assumes of a gateway (and the player protocol's envelope copes with the rest):
 * - delivery is reliable while the connection lives; it MAY reorder or duplicate messages (the
 *   envelope carries a sequence number; the receiver reorders and drops duplicates);
 * - one message in = one message out (no merging or splitting visible to the cluster);
 * - messages are at most `MAX_ENVELOPE_BYTES` (64 KiB; the UDP layer fragments above 1432 bytes);
 * - `onDisconnect` runs once per connection, also when the proxy side called `disconnect()`;
 * - callbacks run on the event loop, never inside `send()`.
 */
import type { Logger } from '../../../log.js';

/** A host and port. */
export interface GatewayAddress {
  host: string;
  port: number;
}

/** Proxy side: one player's connection. */
export interface PlayerConnection {
  /** Unique among this gateway's live connections (the net layer's client token). */
  readonly token: number;
  /** Sends one message, reliably. */
  send(bytes: Uint8Array): void;
  /** Closes the connection; `onDisconnect` follows. */
  disconnect(): void;
}

/** Proxy side: what the gateway tells the proxy. */
export interface GatewayHandler {
  onConnect(conn: PlayerConnection): void;
  onMessage(conn: PlayerConnection, bytes: Uint8Array): void;
  onDisconnect(conn: PlayerConnection): void;
}

/** Proxy side: a listening gateway. */
export interface GatewayListener {
  /** The address actually bound (port 0 picks one). */
  readonly address: GatewayAddress;
  /** Where browser players connect, when `browser` asked for it: URLs, and the WebTransport certificate's SHA-256 (hex). */
  readonly browser?: { websocket?: string; webtransport?: string; certificateHash?: string };
  close(): Promise<void>;
}

/** Client side: a link to one proxy. */
export interface ProxyLink {
  connect(host: string, port: number, opts?: { timeout?: number }): Promise<void>;
  send(bytes: Uint8Array): void;
  onMessage(listener: (bytes: Uint8Array) => void): void;
  /** Runs once when the link closes, whichever side closed it. */
  onClose(listener: (reason: string) => void): void;
  close(): Promise<void>;
}

/** Options of `Gateway.listen`. */
export interface GatewayListenOptions {
  /** Where the listening side logs (the proxy's logger). */
  logger?: Logger;
  /**
   * Browser players: the proxy also accepts them over WebSocket and (native backend) WebTransport
   * on these ports (0: free ones), through the same login flow. A gateway without browser
   * transports ignores them.
   */
  browser?: { websocketPort?: number; webtransportPort?: number };
}

/** Both sides of one transport. */
export interface Gateway {
  readonly name: string;
  listen(addr: GatewayAddress, handler: GatewayHandler, opts?: GatewayListenOptions): Promise<GatewayListener>;
  createLink(): ProxyLink;
}
