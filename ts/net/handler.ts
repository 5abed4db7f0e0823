import type { ClientHandle } from './client-handle.js';

/**
 * Your game logic. Subclass it and override the events you need; every event is called on the
 * event loop, in order: `starting`, then `connect` / `handleMessage` / `update` / `disconnect` as
 * they happen, and `shutdown` last on a graceful stop. An exception thrown by any of them is
 * logged with the client's context and the server goes on.
 */
export abstract class EventHandler {
  /** The server is starting (before the first tick). May return a Promise. */
  starting(): void | Promise<void> {}

  /** A client completed the handshake. */
  connect(client: ClientHandle): void {
    void client;
  }

  /** A client disconnected, timed out or was dropped: called exactly once per connection. */
  disconnect(client: ClientHandle): void {
    void client;
  }

  /** A message arrived; called once per message even when a datagram carried several. */
  handleMessage(client: ClientHandle, seqnum: number, msg: Uint8Array): void {
    void client;
    void seqnum;
    void msg;
  }

  /** Once per tick, with the seconds since the previous tick. */
  update(deltaT: number): void {
    void deltaT;
  }

  /** The server is stopping gracefully: the last event. May return a Promise. */
  shutdown(): void | Promise<void> {}
}
