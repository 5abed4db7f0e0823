/**
 * The seam between the cluster and the transport players connect over.
 *
 * The cluster's player logic (the proxy's sessions in proxy/proxy.ts, the client in client.ts)
 * depends only on the two small interfaces below, never on sockets. A `Gateway` provides both
 * sides: `listen()` for a proxy node, `createLink()` for a client.
 *
 * Shipped implementation: `gateway-udp.ts` (gamewire's encrypted UDP protocol). The tests also use
 * an in-memory loopback gateway
 * (test/cluster/helpers/loopback-gateway.ts) and a TCP one for cross-process runs
 * (test/cluster/helpers/tcp-gateway.ts); both are test transports, not part of the package.
 *
 * ─── What `ts/cluster/gateway-udp.ts` must do (the encrypted UDP gateway, over `ts/net`) ─────────
 *
 * Export `createUdpGateway(opts: { rootKey?: PrivateKey; rootPublicKey?: PublicKey; backend?: ... }): Gateway`
 * and `createGateway(config: ClusterConfig): Gateway` (the default `Cluster.start`/`startNode` and
 * the CLI use when no `gateway` option is given: `cluster.ts` imports `./gateway-udp.js` lazily
 * and calls `createGateway`; decide there where the proxy's key comes from, e.g. a config key or
 * an environment variable, and document it in docs/cluster.md). Then:
 *
 * 1. `listen(addr, handler)`: build an `EventHandler` subclass and `new ServerContext(thatHandler, rootKey)`,
 *    `new UdpServer(ctx, addr, { installSignals: false })`, `await server.listen()`, start
 *    `server.run()` without awaiting it. Map one net client handle to one `PlayerConnection`
 *    (keep a `Map<client, PlayerConnection>`; `token` = the handle's `token`):
 *      EventHandler.connect(client)                       -> handler.onConnect(conn)
 *      EventHandler.handleMessage(client, seqnum, msg)    -> handler.onMessage(conn, msg)   (ignore seqnum)
 *      EventHandler.disconnect(client)                    -> handler.onDisconnect(conn)     (exactly once)
 *      conn.send(bytes)                                   -> client.send(bytes, RetryMode.RETRY_ON_TIMEOUT)
 *      conn.disconnect()                                  -> client.disconnect()
 *    Return `{ address: <the bound {host, port}>, close: () => server.stop() + await run() }`.
 *    `close()` must end every connection (handler.onDisconnect for each is fine, not required).
 * 2. `createLink()`: wrap `new UdpClient({ rootPublicKey })`:
 *      link.connect(host, port, { timeout })  -> client.connect(host, port, { timeout })
 *      link.send(bytes)                       -> client.send(bytes, RetryMode.RETRY_ON_TIMEOUT)
 *      link.onMessage(fn)                     -> client.on('message', (seq, msg) => fn(msg))
 *      link.onClose(fn)                       -> client.on('disconnected', (status) => fn(String(status)))
 *      link.close()                           -> client.disconnect()
 * 3. Switch the player-flow tests: add `udp: () => createUdpGateway({...})` to `GATEWAYS` in
 *    test/cluster/helpers/gateways.ts (one line); every player test runs per gateway.
 *
 * What the cluster assumes of a gateway (and the envelope in protocol.ts copes with the rest):
 * - delivery is reliable while the connection lives; it MAY reorder or duplicate messages (the
 *   envelope carries a sequence number; the receiver reorders and drops duplicates);
 * - one message in = one message out (no merging or splitting visible to the cluster);
 * - messages are at most `MAX_ENVELOPE_BYTES` (64 KiB; the UDP layer fragments above 1432 bytes);
 * - `onDisconnect` runs once per connection, also when the proxy side called `disconnect()`;
 * - callbacks run on the event loop, never inside `send()`.
 */

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

/** Both sides of one transport. */
export interface Gateway {
  readonly name: string;
  listen(addr: GatewayAddress, handler: GatewayHandler): Promise<GatewayListener>;
  createLink(): ProxyLink;
}
