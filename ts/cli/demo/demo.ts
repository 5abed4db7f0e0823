/**
 * `gamewire demo` (what `npm start` runs): a demo cluster in this process, on the embedded
 * defaults: a master (bans and mutes in memory, or in a SQLite file with `--store`; its HTTP admin
 * API on 127.0.0.1), a proxy over the encrypted UDP gateway (with the live dashboard), two lobbies
 * and the daily sign-in service of the `examples/daily-signin` mod (compiled in next to this file
 * by the build). Bot players log in over real UDP, sign in, get banned and unbanned through the
 * HTTP admin API; a live summary is printed every second.
 *
 *   gamewire demo                       runs until Ctrl-C (SIGINT/SIGTERM: stops cleanly, exit 0)
 *   gamewire demo --duration 10         runs the scripted story, keeps the bots busy until 10 s
 *                                       have passed, exits 0 only if the story completed
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Cluster, createConnectToken, createUdpGateway, GameClient, LoginRefusedError, banLoginText, ServerStatus, type UdpGateway } from '../../cluster/index.js';
import { createLogger } from '../../log.js';
import { PrivateKey, type UdpServer } from '../../index.js';
import { defineCommand, intOption, logLevelOption, numberOption, type OptionValues } from '../args.js';
import { loadDailySignin, type DailyClient, type DailyService, type DailySignin, type PlayerRecvResult } from './daily-signin.js';

const OPTIONS = {
  duration: { type: 'string', short: 'd', value: 'SECONDS', help: 'play the story, keep the bots busy until then, exit 0 only if the story completed' },
  bots: { type: 'string', value: 'N', help: 'bot players, 3 to 200 (default 6)' },
  'http-port': { type: 'string', value: 'PORT', help: "the master's HTTP admin API (default: a free port)" },
  'dashboard-port': { type: 'string', value: 'PORT', help: "the proxy's live dashboard (default: a free port)" },
  store: { type: 'string', value: 'FILE', help: 'keep bans and mutes in this SQLite file (default: in memory)' },
  nats: { type: 'string', value: 'URL', help: 'the NATS bus (nats://host:port) instead of the in-process one' },
  'log-level': { type: 'string', value: 'LEVEL', help: 'cluster logs on stderr: trace .. fatal, silent (default warn)' },
} as const;

interface DemoArgs {
  duration: number | null;
  bots: number;
  httpPort: number;
  dashboardPort: number;
  store: string | null;
  nats: string | null;
  logLevel: ReturnType<typeof logLevelOption> & string;
}

function demoArgs(values: OptionValues<typeof OPTIONS>): DemoArgs {
  return {
    duration: numberOption(values, 'duration', 1, 86400) ?? null,
    bots: intOption(values, 'bots', 3, 200) ?? 6,
    httpPort: intOption(values, 'http-port', 0, 65535) ?? 0,
    dashboardPort: intOption(values, 'dashboard-port', 0, 65535) ?? 0,
    store: values.store ? resolve(values.store) : null,
    nats: values.nats ?? null,
    logLevel: logLevelOption(values) ?? 'warn',
  };
}

/** One bot player: a new GameClient per login, with the daily sign-in client system. */
class Bot {
  client: GameClient | null = null;
  signIns = 0;
  /** Why its last session ended when it did not end it itself (a kick), and the text it was shown. */
  kicked: { reason: string; text: string | null } | null = null;
  private leaving = false;

  constructor(
    readonly uid: number,
    private readonly demo: Demo,
  ) {}

  get online(): boolean {
    return !!this.client?.online;
  }

  get daily(): DailyClient | null {
    return this.client?.getSystem<DailyClient>(this.demo.mod.ModName, this.demo.mod.ClientSystemName) ?? null;
  }

  /** Logs in (a refusal rejects with LoginRefusedError). */
  async login(): Promise<number> {
    const c = new GameClient({ gateway: this.demo.gateway, mods: this.demo.mod.ModName, logLevel: 'silent' });
    this.client = c;
    this.leaving = false;
    const a = this.demo.cluster.proxyAddress(2000);
    try {
      const info = await c.login(a.host, a.port, createConnectToken(this.demo.gameKey, this.uid), { timeout: 10 });
      this.demo.counters.logins++;
      void c.whenClosed().then((reason) => {
        if (this.leaving || this.client !== c) return;
        this.kicked = { reason, text: c.closeText };
        this.demo.note(`bot ${this.uid} disconnected: ${reason}${c.closeText ? ` ("${short(c.closeText)}")` : ''}`);
      });
      return info.serverId;
    } catch (err) {
      this.client = null;
      if (err instanceof LoginRefusedError) {
        this.demo.counters.refused++;
        if (err.reason === 'banned') this.demo.counters.bannedLogins++;
      }
      throw err;
    }
  }

  /** Opens the daily UI (the lobby sends it on arrival), presses "sign in", resolves with the result. */
  async signIn(): Promise<PlayerRecvResult> {
    const d = this.daily;
    if (!d) throw new Error(`bot ${this.uid} is not online`);
    await d.until(() => d.ui !== null, 5000);
    const n = d.results.length;
    d.recv();
    await d.until(() => d.results.length > n, 5000);
    const r = d.results[n]!;
    if (r.ok) {
      this.signIns++;
      this.demo.counters.signIns++;
    } else if (r.reason === 'already-signed') this.demo.counters.alreadySigned++;
    return r;
  }

  async logout(): Promise<void> {
    this.leaving = true;
    const c = this.client;
    this.client = null;
    await c?.close();
  }
}

function short(s: string, n = 60): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

interface Step {
  name: string;
  state: 'todo' | 'running' | 'done' | 'failed';
  detail: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class Demo {
  cluster!: Cluster;
  gateway!: UdpGateway;
  readonly gameKey = randomBytes(16).toString('hex');
  readonly secret = randomBytes(18).toString('base64url');
  readonly counters = { logins: 0, refused: 0, bannedLogins: 0, signIns: 0, alreadySigned: 0, adminCalls: 0, bans: 0, unbans: 0, mutes: 0, unmutes: 0 };
  readonly bots: Bot[] = [];
  readonly steps: Step[] = [
    { name: 'bots log in over UDP, spread over both lobbies', state: 'todo', detail: '' },
    { name: 'every bot signs in (the daily sign-in service)', state: 'todo', detail: '' },
    { name: 'the admin API refuses a request without the secret (401)', state: 'todo', detail: '' },
    { name: 'a ban over HTTP disconnects the player', state: 'todo', detail: '' },
    { name: 'the banned player\'s login is refused with the ban text', state: 'todo', detail: '' },
    { name: 'an unban over HTTP lets it in again', state: 'todo', detail: '' },
    { name: 'a mute over HTTP is recorded, read back and lifted', state: 'todo', detail: '' },
  ];
  storyDone = false;
  storyFailed: string | null = null;
  dashboardUrl: string | null = null;
  readonly log: string[] = [];
  readonly startedAt = Date.now();
  mod!: DailySignin;
  private stopping = false;

  constructor(readonly args: DemoArgs) {}

  note(line: string): void {
    const t = ((Date.now() - this.startedAt) / 1000).toFixed(1).padStart(6);
    this.log.push(`${t}s  ${line}`);
    if (this.log.length > 6) this.log.shift();
  }

  get master() {
    return this.cluster.master!;
  }

  get httpBase(): string {
    return this.master.masterHttp.url!;
  }

  async start(): Promise<void> {
    const a = this.args;
    this.mod = await loadDailySignin();
    const { ModName } = this.mod;
    this.gateway = createUdpGateway({
      rootKey: PrivateKey.generate(),
      onListen: async (server: UdpServer) => {
        const addr = await server.enableDashboard({ host: '127.0.0.1', port: a.dashboardPort });
        this.dashboardUrl = `http://127.0.0.1:${addr.port}/`;
      },
    });
    const config = {
      game_id: 'demo',
      game_key: this.gameKey,
      master: { serverid: 0, type: 'master', ip: '127.0.0.1', port: a.httpPort, mods: '', http_secret: this.secret, http_timeout: 5, app_version: '1.0' },
      serverlist: [
        { serverid: 2000, type: 'proxy', app_type: 'proxy', ip: '127.0.0.1', port: 0, app_version: '1.0' },
        { serverid: 4000, type: 'lobby', app_type: 'lobby', ip: '127.0.0.1', port: 0, mods: ModName, max_players: 200, app_version: '1.0' },
        { serverid: 4001, type: 'lobby', app_type: 'lobby', ip: '127.0.0.1', port: 0, mods: ModName, max_players: 200, app_version: '1.0' },
      ],
      servicelist: [{ serverid: 8000, type: 'daily', module_names: [ModName], mods: ModName }],
      store: a.store ? { sqlite: a.store } : { memory: true },
      ...(a.nats ? { nats: { servers: a.nats, prefix: `gamewire.demo${process.pid}` } } : {}),
    };
    this.cluster = await Cluster.start(config, { gateway: this.gateway, logger: createLogger({ level: a.logLevel }) });
    for (let i = 0; i < a.bots; i++) this.bots.push(new Bot(1001 + i, this));
    this.note(`cluster up: master, proxy 2000, lobbies 4000 and 4001, daily service 8000 (${this.cluster.bus.kind} bus)`);
  }

  /** An admin API call with (or without) the shared secret. */
  async admin(path: string, body?: unknown, withSecret = true): Promise<{ status: number; json: Record<string, unknown> }> {
    this.counters.adminCalls++;
    const r = await fetch(this.httpBase + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(withSecret ? { authorization: `Bearer ${this.secret}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const counted = { '/admin/ban': 'bans', '/admin/unban': 'unbans', '/admin/silent': 'mutes', '/admin/unsilent': 'unmutes' } as const;
    if (r.status === 200 && path in counted) this.counters[counted[path as keyof typeof counted]]++;
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  }

  private async step(i: number, run: () => Promise<string>): Promise<void> {
    const s = this.steps[i]!;
    s.state = 'running';
    try {
      s.detail = await run();
      s.state = 'done';
      this.note(`✓ ${s.name}${s.detail ? `: ${s.detail}` : ''}`);
    } catch (err) {
      s.state = 'failed';
      s.detail = (err as Error).message;
      this.note(`✗ ${s.name}: ${s.detail}`);
      throw err;
    }
  }

  /** The scripted story. Resolves true when every step worked. */
  async story(): Promise<boolean> {
    const expect = (cond: boolean, what: string) => {
      if (!cond) throw new Error(what);
    };
    try {
      await this.step(0, async () => {
        const where = await Promise.all(this.bots.map((b) => b.login()));
        const counts = [4000, 4001].map((id) => where.filter((w) => w === id).length);
        expect(counts[0]! > 0 && counts[1]! > 0, `players not spread: ${counts.join('/')}`);
        return `${this.bots.length} bots: ${counts[0]} on lobby 4000, ${counts[1]} on lobby 4001`;
      });
      await this.step(1, async () => {
        const results = await Promise.all(this.bots.map((b) => b.signIn()));
        expect(results.every((r) => r.ok && r.reward?.gold === 100), `sign-ins failed: ${JSON.stringify(results.filter((r) => !r.ok))}`);
        return `${results.length} sign-ins, 100 gold each`;
      });
      await this.step(2, async () => {
        const r = await this.admin('/admin/status', undefined, false);
        expect(r.status === 401, `expected 401, got ${r.status}`);
        return 'GET /admin/status without "Authorization: Bearer <secret>" → 401';
      });
      const victim = this.bots[0]!;
      const reason = 'cheating (demo)';
      const banTime = 3600;
      await this.step(3, async () => {
        const r = await this.admin('/admin/ban', { uid: victim.uid, banTime, reason, combineReason: true });
        expect(r.status === 200 && r.json.code === 1, `ban answered ${r.status} ${JSON.stringify(r.json)}`);
        const deadline = Date.now() + 5000;
        while (!victim.kicked && Date.now() < deadline) await sleep(20);
        expect(victim.kicked?.reason === 'banned', `bot ${victim.uid} was not disconnected (${JSON.stringify(victim.kicked)})`);
        return `POST /admin/ban uid ${victim.uid} for ${banTime}s → disconnected`;
      });
      await this.step(4, async () => {
        const info = await this.admin(`/admin/ban-info?uid=${victim.uid}`);
        const banned = info.json.info as { banTimestamp: number };
        const want = banLoginText({ banTime, banTimestamp: banned.banTimestamp, reason, combineReason: true }, Math.floor(Date.now() / 1000));
        const err = await victim.login().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err instanceof LoginRefusedError && err.reason === 'banned', `login was not refused as banned: ${String(err)}`);
        expect((err as LoginRefusedError).text === want, `unexpected text: ${(err as LoginRefusedError).text}`);
        return `"${(err as LoginRefusedError).text}"`;
      });
      await this.step(5, async () => {
        const r = await this.admin('/admin/unban', { uid: victim.uid });
        expect(r.status === 200, `unban answered ${r.status}`);
        victim.kicked = null;
        const at = await victim.login();
        const again = await victim.signIn();
        expect(again.reason === 'already-signed', `expected already-signed, got ${JSON.stringify(again)}`);
        return `POST /admin/unban → logged in on lobby ${at}; signing in again today: already-signed`;
      });
      await this.step(6, async () => {
        const who = this.bots[1]!;
        expect((await this.admin('/admin/silent', { uid: who.uid, banTime: 600, reason: 'spam (demo)' })).status === 200, 'silent failed');
        const info = (await this.admin(`/admin/silent-info?uid=${who.uid}`)).json.info as { banTime?: number };
        expect(info.banTime === 600, `silent-info: ${JSON.stringify(info)}`);
        expect((await this.admin('/admin/unsilent', { uid: who.uid })).status === 200, 'unsilent failed');
        const after = (await this.admin(`/admin/silent-info?uid=${who.uid}`)).json.info as object;
        expect(Object.keys(after).length === 0, 'still muted');
        expect(who.online, 'a mute does not disconnect');
        return `uid ${who.uid} muted for 600s, read back, unmuted`;
      });
      this.storyDone = true;
      this.note('story complete');
      return true;
    } catch (err) {
      this.storyFailed = (err as Error).message;
      return false;
    }
  }

  /** After the story: bots come and go, sign in, and now and then one is banned for a few seconds. */
  async live(until: () => boolean): Promise<void> {
    let round = 0;
    while (!until() && !this.stopping) {
      round++;
      const bot = this.bots[Math.floor(Math.random() * this.bots.length)]!;
      try {
        if (round % 12 === 0 && bot.online) {
          await this.admin('/admin/ban', { uid: bot.uid, banTime: 4, reason: 'a short demo ban', combineReason: true });
          this.note(`banned bot ${bot.uid} for 4 s (POST /admin/ban)`);
        } else if (!bot.online) {
          await bot.login().then(
            async (at) => {
              bot.kicked = null;
              this.note(`bot ${bot.uid} back on lobby ${at}`);
              await bot.signIn();
            },
            (err: unknown) => {
              if (err instanceof LoginRefusedError && err.reason === 'banned') this.note(`bot ${bot.uid} refused: "${short(err.text ?? '', 48)}"`);
            },
          );
        } else if (round % 3 === 0) {
          await bot.logout();
          this.note(`bot ${bot.uid} logged out`);
        }
      } catch (err) {
        this.note(`bot ${bot.uid}: ${(err as Error).message}`);
      }
      await sleep(400 + Math.random() * 400);
    }
  }

  /** The live summary. */
  render(): string {
    const up = ((Date.now() - this.startedAt) / 1000).toFixed(0);
    const sm = this.master.serverManager;
    const statusName: Record<number, string> = { 1: 'disconnected', 2: 'connected', 3: 'shut down', 4: 'closing', 6: 'updating', 7: 'updating' };
    const lines: string[] = [];
    lines.push(`gamewire demo: an embedded cluster (${this.cluster.bus.kind} bus), up ${up}s${this.args.duration ? ` of ${this.args.duration}s` : ' (Ctrl-C to stop)'}`);
    lines.push(`  dashboard   ${this.dashboardUrl ?? '(starting)'}   (the proxy's UDP server, live)`);
    lines.push(`  admin API   ${this.httpBase}/admin/status   (Authorization: Bearer ${this.secret})`);
    lines.push(`  store       ${this.args.store ?? 'in memory (--store FILE keeps it in SQLite)'}`);
    lines.push('');
    lines.push('  server  type    status        players  RPC sent/answered/timed out');
    for (const id of [2000, 4000, 4001, 8000]) {
      const type = this.master.netgameApi.getGameTypeByServerId(id) ?? '?';
      const st = sm.getOneServerStatus(id) ?? ServerStatus.DISCONNECTED;
      const players = id === 8000 ? '-' : String(sm.getOnlineNumByServerId(id));
      let rpc = '';
      try {
        const s = this.cluster.node(id).rpc.stats;
        rpc = id === 4000 || id === 4001 ? `${s.sent}/${s.answered}/${s.timedOut}` : '';
      } catch {
        rpc = '';
      }
      lines.push(`  ${String(id).padEnd(6)}  ${type.padEnd(6)}  ${`${st} ${statusName[st] ?? ''}`.padEnd(12)}  ${players.padStart(7)}  ${rpc}`);
    }
    const c = this.counters;
    const http = this.master.masterHttp.stats;
    let signedToday = 0;
    try {
      signedToday = this.cluster.getSystem<DailyService>(8000, this.mod.ModName, this.mod.ServiceSystemName)?.lastSignIn.size ?? 0;
    } catch {
      signedToday = 0;
    }
    lines.push('');
    lines.push(`  players online ${sm.getTotalOnlineNum()} of ${this.bots.length} bots   logins ${c.logins}   refused ${c.refused} (banned ${c.bannedLogins})`);
    lines.push(`  sign-ins ${this.counters.signIns} (already signed ${this.counters.alreadySigned}; ${signedToday} uids signed today)`);
    lines.push(`  bans ${c.bans}  unbans ${c.unbans}  mutes ${c.mutes}  unmutes ${c.unmutes}`);
    lines.push(`  admin HTTP requests ${http.requests}  (401: ${http.unauthorized}, 400: ${http.badRequests}, 504: ${http.timedOut})`);
    lines.push('');
    lines.push(`  story${this.storyDone ? ': complete' : this.storyFailed ? `: FAILED (${this.storyFailed})` : ''}`);
    for (const s of this.steps) lines.push(`    [${s.state === 'done' ? 'x' : s.state === 'failed' ? '!' : s.state === 'running' ? '~' : ' '}] ${s.name}`);
    lines.push('');
    lines.push('  recent');
    for (const l of this.log) lines.push(`    ${l}`);
    return lines.join('\n');
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.all(this.bots.map((b) => b.logout().catch(() => undefined)));
    await this.cluster?.stop();
  }
}

export const demoCommand = defineCommand({
  name: 'demo',
  synopsis: ['[--duration SECONDS] [--bots N] [--http-port PORT] [--dashboard-port PORT] [--store FILE] [--nats URL] [--log-level LEVEL]'],
  description:
    'Runs a demo cluster here: a master (HTTP admin API), a proxy (UDP, dashboard), two lobbies, the daily\nsign-in service, and bots that log in, sign in, get banned and unbanned. Ctrl-C stops it (exit 0).',
  options: OPTIONS,
  run: (values) => runDemo(demoArgs(values)),
});

async function runDemo(args: DemoArgs, opts: { signal?: AbortSignal; out?: NodeJS.WriteStream } = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const tty = !!out.isTTY;
  const demo = new Demo(args);
  try {
    await demo.start();
  } catch (err) {
    process.stderr.write(`gamewire demo: could not start: ${(err as Error).message}\n`);
    await demo.stop().catch(() => undefined);
    return 1;
  }
  out.write(`gamewire demo running\n  dashboard: ${demo.dashboardUrl}\n  master HTTP: ${demo.httpBase} (secret: ${demo.secret})\n`);

  let stopRequested = false;
  let onSignal: () => void = () => undefined;
  // The first Ctrl-C stops the demo cleanly; a second one (no listener left) ends the process.
  const stopped = new Promise<void>((done) => {
    onSignal = () => {
      if (stopRequested) return;
      stopRequested = true;
      done();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    opts.signal?.addEventListener('abort', onSignal);
    if (opts.signal?.aborted) onSignal();
  });
  const deadline = args.duration ? demo.startedAt + args.duration * 1000 : Infinity;
  const over = () => stopRequested || Date.now() >= deadline;

  const draw = () => {
    if (tty) {
      // Redrawn in place; lines cut to the terminal's width so the picture does not scroll.
      const cols = Math.max(40, out.columns || 100);
      const text = demo
        .render()
        .split('\n')
        .map((l) => (l.length > cols ? `${l.slice(0, cols - 1)}…` : l))
        .join('\n');
      out.write(`\x1b[H\x1b[2J${text}\n`);
    } else out.write(`\n${demo.render()}\n`);
  };
  draw();
  const timer = setInterval(draw, tty ? 1000 : 2000);

  const work = (async () => {
    const ok = await demo.story();
    if (ok) out.write(`story complete after ${((Date.now() - demo.startedAt) / 1000).toFixed(1)}s\n`);
    else out.write(`story FAILED: ${demo.storyFailed}\n`);
    if (!ok && args.duration) return;
    await demo.live(over);
  })();

  const timeUp = args.duration ? new Promise<void>((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref()) : new Promise<void>(() => undefined);
  await Promise.race([stopped, timeUp, work.then(() => (args.duration && !demo.storyDone ? undefined : new Promise<void>(() => undefined)))]);
  stopRequested = true;
  clearInterval(timer);
  await Promise.race([work, sleep(3000)]);
  draw();
  await demo.stop();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  opts.signal?.removeEventListener('abort', onSignal);
  const ok = !args.duration || demo.storyDone;
  out.write(ok ? 'gamewire demo stopped cleanly\n' : `gamewire demo: the story did not complete${demo.storyFailed ? `: ${demo.storyFailed}` : ' in time'}\n`);
  return ok ? 0 : 1;
}
