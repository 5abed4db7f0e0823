/**
 * A node's link to the master (every node but the master has one): registration (`hello`, with
 * what the node holds, so a restarted master learns it again), heartbeats, and
 * `MasterConnectStatusEvent` on every change: the first registration, every loss and every
 * re-registration.
 *
 * | op      | to     | body                                                  | answer             |
 * |---------|--------|-------------------------------------------------------|--------------------|
 * | `hello` | master | `{ inc, type, role, entry?, ...the role's registration }` | `{ inc, members }` |
 * | `hb`    | master | `{ inc, players }`                                     | `{ inc, known }`   |
 * | `bye`   | master | `{ inc }`                                              | none               |
 *
 * It listens for the master's `master-up { inc }` (register now) and `master-down { inc }` (the
 * link is down now, not after the heartbeat timeout).
 */
import type { ServerEntry } from '../cluster-config.js';
import type { ClockTimer } from '../../clock.js';
import { EngineEvents } from './events.js';
import type { NodeHost } from './host.js';

/** What the link needs besides the node: what the node reports, and where to put the members the master lists. */
export interface MasterLinkSource {
  /** What the node reports when it registers. */
  registration(): Record<string, unknown>;
  /** Players on (or through) the node, for heartbeats. */
  load(): number;
  /** Learns the nodes the master added at run time. */
  learnMembers(entries: unknown): void;
}

export class MasterLink {
  connected = false;
  /** Registrations that succeeded (the first one and every re-registration). */
  registrations = 0;
  private masterInc: string | null = null;
  private lastOk = 0;
  private helloInFlight = false;
  private helloGeneration = 0;
  private hbInFlight = false;
  /** The master answered a heartbeat without knowing this node (it dropped it): the next registration is a new one. */
  private forgotten = false;
  private timer: ClockTimer | null = null;
  private waiters: Array<(ok: boolean) => void> = [];

  constructor(
    private readonly node: NodeHost,
    private readonly source: MasterLinkSource,
  ) {}

  private get masterId(): number {
    return this.node.config.master.serverid;
  }

  start(): void {
    this.node.onOp('master-up', (m) => {
      const inc = (m.body as { inc?: string } | null)?.inc;
      // A new master: register now, even if a registration with the old one is still pending.
      if (inc !== this.masterInc || !this.connected) this.hello(true);
    });
    this.node.onOp('master-down', (m) => {
      const inc = (m.body as { inc?: string } | null)?.inc;
      if (inc === this.masterInc) this.setConnected(false);
    });
    this.hello();
    this.timer = this.node.clock.setInterval(() => this.tick(), this.node.timing.heartbeatInterval * 1000);
  }

  stop(sayBye: boolean): void {
    this.timer?.cancel();
    this.timer = null;
    if (sayBye && this.connected) this.node.sendOp(this.masterId, 'bye', { inc: this.node.incarnation });
    this.connected = false;
    for (const w of this.waiters.splice(0)) w(false);
  }

  /** The bus went down: so did the link. */
  busLost(): void {
    this.setConnected(false);
  }

  /** The bus is back: register again at once. */
  busBack(): void {
    this.hello(true);
  }

  /** Resolves true once registered, false after `timeoutSeconds` (or when the node stops). */
  whenConnected(timeoutSeconds: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = this.node.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutSeconds * 1000);
      const done = (ok: boolean) => {
        t.cancel();
        resolve(ok);
      };
      this.waiters.push(done);
    });
  }

  private tick(): void {
    if (!this.node.running) return;
    if (this.connected && this.node.clock.now() - this.lastOk > this.node.timing.nodeTimeout * 1000) {
      this.node.log.warn('master link lost: no heartbeat answer');
      this.setConnected(false);
    }
    if (!this.connected) {
      this.hello();
      return;
    }
    if (this.hbInFlight) return;
    this.hbInFlight = true;
    const body = { inc: this.node.incarnation, players: this.source.load() };
    void this.node.requestOp<{ inc: string; known: boolean }>(this.masterId, 'hb', body, { timeout: this.node.timing.nodeTimeout }).then((r) => {
      this.hbInFlight = false;
      if (!r.ok || !r.data) return;
      this.lastOk = this.node.clock.now();
      if (!r.data.known || r.data.inc !== this.masterInc) {
        if (r.data.inc === this.masterInc) this.forgotten = true;
        this.node.log.info('master does not know this node (it restarted or dropped us): registering again');
        this.hello();
      }
    });
  }

  private hello(force = false): void {
    if ((this.helloInFlight && !force) || !this.node.running) return;
    this.helloInFlight = true;
    const generation = ++this.helloGeneration;
    const body = {
      inc: this.node.incarnation,
      type: this.node.serverType,
      role: this.node.role,
      // A node added at run time: a master that restarted since learns it from this.
      entry: (this.node.entry as ServerEntry).dynamic ? this.node.entry : undefined,
      ...this.source.registration(),
    };
    const timeout = Math.min(this.node.timing.opTimeout, Math.max(this.node.timing.nodeTimeout, 0.5));
    void this.node.requestOp<{ inc: string; members?: unknown }>(this.masterId, 'hello', body, { timeout }).then((r) => {
      if (generation === this.helloGeneration) this.helloInFlight = false;
      if (!this.node.running) return;
      if (!r.ok || !r.data) return; // tried again on the next tick
      this.source.learnMembers(r.data.members);
      // Registered while the link looked up, with a new master (the old one was killed and this
      // one came up before the heartbeats noticed) or with one that had forgotten this node: what
      // it knew of this node was lost. Report the link down, then up again.
      const again = this.connected && (r.data.inc !== this.masterInc || this.forgotten);
      this.forgotten = false;
      this.masterInc = r.data.inc;
      this.lastOk = this.node.clock.now();
      this.registrations++;
      if (again) this.setConnected(false);
      this.setConnected(true);
    });
  }

  private setConnected(v: boolean): void {
    if (this.connected === v) return;
    this.connected = v;
    this.node.log.info({ isConnect: v }, v ? 'registered with the master' : 'master link down');
    if (v) for (const w of this.waiters.splice(0)) w(true);
    this.node.fireEngineEvent(EngineEvents.MasterConnectStatusEvent, { isConnect: v });
  }
}
