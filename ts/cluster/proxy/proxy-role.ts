/**
 * The proxy role: players connect to it over a gateway (the transport seam) and speak the player
 * protocol (envelope.ts). It checks the connect token, asks the master where the player goes, adds the
 * player to that lobby/game, and then carries events both ways; it moves players between servers
 * (transferToServer) and kicks them.
 *
 * Engine operations it handles:
 *
 * | op          | from         | body                                          | answer            |
 * |-------------|--------------|-----------------------------------------------|-------------------|
 * | `cev`       | lobby/game, service | `{ playerId? , uid?, ns, sys, ev, data }` | none           |
 * | `ptransfer` | lobby/game   | `{ playerId, target, param }`                 | `{ ok, serverId, reason }` |
 * | `pkick`     | lobby/game   | `{ playerId, reason }`                        | none              |
 * | `kick`      | master       | `{ uid, playerId, reason, text }`             | none              |
 * | `mtransfer` | master       | `{ playerId, target }`: move a player (rolling update, rolling close) | `{ ok, serverId, reason }` |
 * | `node-down` | master (all) | `{ serverId }`: players on it are kicked      | none              |
 */
import { findNode } from '../cluster-config.js';
import type { LoginAnswer, OpMessage } from '../core/bus-messages.js';
import { sleep, type ClockTimer } from '../../clock.js';
import type { EventData } from '../core/events.js';
import { RoleKey, type NodeHost, type RolePart } from '../core/host.js';
import { verifyConnectToken } from '../player/connect-token.js';
import { decodeClientMessage, EnvelopeWriter, InOrder, type ClientToProxy, type ProxyToClient } from '../player/envelope.js';
import type { Gateway, GatewayAddress, GatewayHandler, GatewayListener, PlayerConnection } from '../transport/gateway/gateway.js';

type SessionState = 'new' | 'login' | 'online' | 'transferring' | 'closing' | 'closed';

interface Session {
  readonly conn: PlayerConnection;
  readonly playerId: string;
  state: SessionState;
  uid: number | null;
  pv: number | null;
  serverId: number | null;
  serverType: string | null;
  readonly writer: EnvelopeWriter;
  readonly inorder: InOrder<ClientToProxy & { n: number }>;
  /** Events for the client that came before login_ok was sent. */
  readonly heldForClient: ProxyToClient[];
  /** The client's events for its server while a transfer is under way. */
  readonly heldForServer: Array<{ ns: string; sys: string; ev: string; data: EventData }>;
  timer: ClockTimer | null;
}

/** Milliseconds between a kick/refusal message and closing the connection. */
const CLOSE_GRACE_MS = 300;

/** Milliseconds a stopping proxy gives its players' kick messages before it closes their connections. */
const STOP_GRACE_MS = 100;

/** The proxy role part. */
export const PROXY_ROLE = new RoleKey<ProxyRole>('proxy');

export class ProxyRole implements GatewayHandler, RolePart {
  private listener: GatewayListener | null = null;
  private readonly sessions = new Map<PlayerConnection, Session>();
  private readonly byPlayerId = new Map<string, Session>();
  private readonly byUid = new Map<number, Session>();
  private counter = Math.floor(Math.random() * 1e6);
  readonly stats = { connections: 0, logins: 0, refused: 0, kicked: 0, transfers: 0, malformed: 0, misaddressed: 0, tooLarge: 0 };

  constructor(
    private readonly node: NodeHost,
    private readonly gateway: Gateway,
    private readonly allowBareUid: boolean,
  ) {
    node.onOp('cev', (m) => this.onClientEvent(m));
    node.onOp('ptransfer', (m) => void this.onTransfer(m));
    node.onOp('mtransfer', (m) => void this.onTransfer(m));
    node.onOp('pkick', (m) => {
      const b = m.body as { playerId: string; reason: string };
      const s = this.byPlayerId.get(b.playerId);
      if (s && s.serverId === m.from) this.kick(s, b.reason || 'kicked', true);
    });
    node.onOp('kick', (m) => {
      const b = m.body as { playerId: string; reason: string; text?: string | null };
      const s = this.byPlayerId.get(b.playerId);
      if (s) this.kick(s, b.reason || 'kicked', false, b.text ?? null);
    });
    node.onOp('node-down', (m) => {
      const id = (m.body as { serverId: number }).serverId;
      for (const s of this.sessions.values()) if (s.serverId === id && (s.state === 'online' || s.state === 'transferring')) this.kick(s, 'server-lost', false);
    });
  }

  /** The address players connect to. */
  get address(): GatewayAddress | null {
    return this.listener?.address ?? null;
  }

  /** Where browser players connect (when the config gave this proxy browser ports). */
  get browser(): GatewayListener['browser'] | null {
    return this.listener?.browser ?? null;
  }

  /** Logged-in players. */
  load(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.state === 'online' || s.state === 'transferring') n++;
    return n;
  }

  /** What this proxy tells the master when it registers: its sessions. */
  registration(): { sessions: Array<{ playerId: string; uid: number; serverId: number; pv: number | null }> } {
    const sessions: Array<{ playerId: string; uid: number; serverId: number; pv: number | null }> = [];
    for (const s of this.sessions.values()) {
      if ((s.state === 'online' || s.state === 'transferring') && s.uid !== null && s.serverId !== null) sessions.push({ playerId: s.playerId, uid: s.uid, serverId: s.serverId, pv: s.pv });
    }
    return { sessions };
  }

  async start(): Promise<void> {
    const e = this.node.entry as { ip: string; port: number; websocket_port?: number | null; webtransport_port?: number | null };
    const browser =
      e.websocket_port != null || e.webtransport_port != null
        ? { websocketPort: e.websocket_port ?? undefined, webtransportPort: e.webtransport_port ?? undefined }
        : undefined;
    this.listener = await this.gateway.listen({ host: e.ip, port: e.port }, this, { logger: this.node.log, browser });
    this.node.log.info({ address: this.listener.address, gateway: this.gateway.name }, 'proxy listening');
  }

  async stop(): Promise<void> {
    const live = [...this.sessions.values()];
    for (const s of live) this.kick(s, 'proxy-stopping', true);
    if (live.length > 0) {
      await sleep(this.node.clock, STOP_GRACE_MS);
      for (const s of live) {
        s.timer?.cancel();
        s.timer = null;
        s.conn.disconnect();
      }
    }
    const l = this.listener;
    this.listener = null;
    if (l) await l.close();
  }

  // ─── gateway callbacks ───────────────────────────────────────────────────────────────────

  onConnect(conn: PlayerConnection): void {
    this.stats.connections++;
    const s: Session = {
      conn,
      playerId: `${this.node.serverId}-${++this.counter}`,
      state: 'new',
      uid: null,
      pv: null,
      serverId: null,
      serverType: null,
      writer: new EnvelopeWriter(),
      inorder: new InOrder(),
      heldForClient: [],
      heldForServer: [],
      timer: null,
    };
    this.sessions.set(conn, s);
    // A connection that does not log in goes.
    s.timer = this.node.clock.setTimeout(() => {
      if (s.state === 'new' || s.state === 'login') this.refuse(s, 'login-timeout');
    }, (this.node.timing.opTimeout * 2 + 2) * 1000);
  }

  onMessage(conn: PlayerConnection, bytes: Uint8Array): void {
    const s = this.sessions.get(conn);
    if (!s) return;
    const m = decodeClientMessage(bytes);
    if (!m) {
      this.stats.malformed++;
      return;
    }
    const ready = s.inorder.push(m);
    if (ready === 'overflow') return this.kick(s, 'protocol-error', true);
    for (const msg of ready) this.onClientMessage(s, msg);
  }

  onDisconnect(conn: PlayerConnection): void {
    const s = this.sessions.get(conn);
    if (!s) return;
    this.sessions.delete(conn);
    s.timer?.cancel();
    const wasIn = s.state === 'online' || s.state === 'transferring';
    s.state = 'closed';
    this.forget(s);
    if (wasIn) this.leave(s, 'logout', true);
  }

  // ─── client messages ─────────────────────────────────────────────────────────────────────

  private onClientMessage(s: Session, m: ClientToProxy): void {
    switch (m.t) {
      case 'login':
        if (s.state === 'new') void this.login(s, m.token, m.pv);
        return;
      case 'ev':
        if (s.state === 'online') this.node.sendOp(s.serverId!, 'pev', { playerId: s.playerId, ns: m.ns, sys: m.sys, ev: m.ev, data: m.data });
        else if (s.state === 'transferring') s.heldForServer.push({ ns: m.ns, sys: m.sys, ev: m.ev, data: m.data });
        return;
      case 'sev': {
        if (s.state !== 'online' && s.state !== 'transferring') return;
        if (findNode(this.node.config, m.to)?.role !== 'service') {
          this.stats.misaddressed++;
          this.node.log.warn({ target: m.to, uid: s.uid, event: m.ev }, 'client event to a server id that is not a service: dropped');
          return;
        }
        this.node.sendEvent(this.node.subjects.node(m.to), m.ns, m.sys, m.ev, { ...m.data, __proxyId__: this.node.serverId, __uid__: s.uid });
        return;
      }
    }
  }

  private async login(s: Session, token: string, pv: number | null): Promise<void> {
    s.state = 'login';
    const check = verifyConnectToken(this.node.config.game_key, token, { allowBareUid: this.allowBareUid });
    if (!check.ok) return this.refuse(s, `token-${check.reason}`);
    const uid = check.claims.uid;
    s.uid = uid;
    s.pv = pv;
    const masterId = this.node.config.master.serverid;
    const r = await this.node.requestOp<LoginAnswer>(masterId, 'login', { uid, playerId: s.playerId, pv });
    if (s.state !== 'login') {
      if (r.ok && r.data?.ok) this.node.sendOp(masterId, 'logout', { uid, playerId: s.playerId });
      return;
    }
    if (!r.ok || !r.data || !r.data.ok || r.data.serverId === null) return this.refuse(s, r.data?.reason ?? 'master-unavailable', r.data?.text ?? null);
    const serverId = r.data.serverId;
    s.serverId = serverId;
    s.serverType = r.data.serverType;
    this.byPlayerId.set(s.playerId, s);
    this.byUid.set(uid, s);
    // The answer is handled synchronously (callback, not await): the client hears login_ok before
    // any event the server's AddServerPlayerEvent listeners send.
    void this.node.requestOp<{ ok: boolean }>(
      serverId,
      'padd',
      { playerId: s.playerId, uid, pv, isTransfer: false, transferParam: null, fromServerId: null },
      {
        callback: (ok) => {
          if (s.state !== 'login') {
            if (ok) this.node.sendOp(serverId, 'pdel', { playerId: s.playerId, reason: 'logout', isTransfer: false });
            this.node.sendOp(masterId, 'logout', { uid, playerId: s.playerId });
            return;
          }
          if (!ok) {
            this.node.sendOp(masterId, 'logout', { uid, playerId: s.playerId });
            return this.refuse(s, 'server-unavailable');
          }
          s.state = 'online';
          s.timer?.cancel();
          s.timer = null;
          this.stats.logins++;
          this.send(s, { t: 'login_ok', uid, playerId: s.playerId, serverId, serverType: s.serverType ?? '' });
          for (const held of s.heldForClient.splice(0)) this.send(s, held);
        },
      },
    );
  }

  // ─── operations from servers, services and the master ──────────────────────────────────────

  private onClientEvent(m: OpMessage): void {
    const b = m.body as { playerId?: string; uid?: number; ns: string; sys: string; ev: string; data: EventData };
    const s = b.playerId !== undefined ? this.byPlayerId.get(b.playerId) : b.uid !== undefined ? this.byUid.get(b.uid) : undefined;
    if (!s || s.state === 'closing' || s.state === 'closed') {
      this.stats.misaddressed++;
      this.node.log.debug({ playerId: b.playerId, uid: b.uid, event: b.ev, from: m.from }, 'event for a client not on this proxy: dropped');
      return;
    }
    const msg: ProxyToClient = { t: 'ev', ns: b.ns, sys: b.sys, ev: b.ev, data: b.data };
    if (s.state === 'login') s.heldForClient.push(msg);
    else this.send(s, msg);
  }

  private async onTransfer(m: OpMessage): Promise<void> {
    const b = m.body as { playerId: string; target: number | string; param?: unknown };
    const reply = (ok: boolean, serverId: number | null, reason: string | null) => this.node.replyOp(m, { ok, serverId, reason });
    const s = this.byPlayerId.get(b.playerId);
    // From the player's server (transferToServer), or from the master (moving players off a server).
    const byMaster = m.op === 'mtransfer' && m.from === this.node.config.master.serverid;
    if (!s || (!byMaster && s.serverId !== m.from)) return reply(false, null, 'not-on-server');
    if (s.state !== 'online') return reply(false, null, s.state === 'transferring' ? 'busy' : 'not-online');
    s.state = 'transferring';
    const masterId = this.node.config.master.serverid;
    const r = await this.node.requestOp<LoginAnswer>(masterId, 'transfer', { uid: s.uid, playerId: s.playerId, target: b.target, pv: s.pv });
    if (s.state !== 'transferring') return reply(false, null, 'disconnected');
    if (!r.ok || !r.data || !r.data.ok || r.data.serverId === null) {
      s.state = 'online';
      this.flushToServer(s);
      return reply(false, null, r.data?.reason ?? 'master-unavailable');
    }
    const from = s.serverId!;
    const to = r.data.serverId;
    this.node.sendOp(from, 'pdel', { playerId: s.playerId, reason: 'transfer', isTransfer: true });
    s.serverId = to;
    s.serverType = r.data.serverType;
    void this.node.requestOp<{ ok: boolean }>(
      to,
      'padd',
      { playerId: s.playerId, uid: s.uid, pv: s.pv, isTransfer: true, transferParam: b.param ?? null, fromServerId: from },
      {
        callback: (ok) => {
          if (s.state !== 'transferring') {
            if (ok) this.node.sendOp(to, 'pdel', { playerId: s.playerId, reason: 'logout', isTransfer: false });
            return reply(false, null, 'disconnected');
          }
          if (!ok) {
            this.kick(s, 'transfer-failed', true);
            return reply(false, null, 'target-unavailable');
          }
          s.state = 'online';
          this.stats.transfers++;
          this.send(s, { t: 'transfer', fromServerId: from, serverId: to, serverType: s.serverType ?? '' });
          this.flushToServer(s);
          reply(true, to, null);
        },
      },
    );
  }

  private flushToServer(s: Session): void {
    for (const e of s.heldForServer.splice(0)) this.node.sendOp(s.serverId!, 'pev', { playerId: s.playerId, ...e });
  }

  // ─── leaving ─────────────────────────────────────────────────────────────────────────────

  /** Tells the client why, then closes its connection. */
  kick(s: Session, reason: string, tellMaster: boolean, text: string | null = null): void {
    if (s.state === 'closing' || s.state === 'closed') return;
    const wasIn = s.state === 'online' || s.state === 'transferring';
    s.state = 'closing';
    this.stats.kicked++;
    this.forget(s);
    if (wasIn) this.leave(s, reason, tellMaster);
    this.send(s, text ? { t: 'kick', reason, text } : { t: 'kick', reason });
    this.closeSoon(s);
  }

  private refuse(s: Session, reason: string, text: string | null = null): void {
    if (s.state === 'closing' || s.state === 'closed') return;
    s.state = 'closing';
    this.stats.refused++;
    this.forget(s);
    this.node.log.info({ uid: s.uid, reason }, 'login refused');
    this.send(s, text ? { t: 'login_fail', reason, text } : { t: 'login_fail', reason });
    this.closeSoon(s);
  }

  /** The player leaves its server (and the master's online list). */
  private leave(s: Session, reason: string, tellMaster: boolean): void {
    if (s.serverId !== null) this.node.sendOp(s.serverId, 'pdel', { playerId: s.playerId, reason, isTransfer: false });
    if (tellMaster && s.uid !== null) this.node.sendOp(this.node.config.master.serverid, 'logout', { uid: s.uid, playerId: s.playerId });
  }

  private forget(s: Session): void {
    if (this.byPlayerId.get(s.playerId) === s) this.byPlayerId.delete(s.playerId);
    if (s.uid !== null && this.byUid.get(s.uid) === s) this.byUid.delete(s.uid);
  }

  private closeSoon(s: Session): void {
    s.timer?.cancel();
    s.timer = this.node.clock.setTimeout(() => s.conn.disconnect(), CLOSE_GRACE_MS);
  }

  private send(s: Session, m: ProxyToClient): void {
    let bytes: Uint8Array;
    try {
      bytes = s.writer.encode(m);
    } catch (err) {
      this.stats.tooLarge++;
      this.node.log.warn({ err, uid: s.uid }, 'message to client too large: dropped');
      return;
    }
    s.conn.send(bytes);
  }
}
