/** Running mpgameserver 0.2.4's own peers (test/interop/peers/*.py) from vitest. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RetryMode, type ClientHandle, EventHandler } from '../../ts/index.js';

export const PEERS = fileURLToPath(new URL('./peers/', import.meta.url));

/** The virtualenv `scripts/setup.sh` makes, with mpgameserver 0.2.4 from PyPI. */
export function python(): string {
  const py = join(process.env.GAMEWIRE_CACHE ?? join(homedir(), '.cache', 'gamewire'), 'mpgs-venv', 'bin', 'python');
  if (!existsSync(py)) throw new Error(`${py} is missing: run \`bash scripts/setup.sh\` (it installs mpgameserver 0.2.4 from PyPI)`);
  return py;
}

export interface PyEvent {
  event: string;
  [k: string]: unknown;
}

/** A Python peer process whose stdout is JSON lines. */
export class PyPeer {
  readonly events: PyEvent[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number>;
  private readonly waiters: { pred: (e: PyEvent) => boolean; resolve: (e: PyEvent) => void }[] = [];

  constructor(readonly proc: ChildProcess) {
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (line) => {
      let e: PyEvent;
      try {
        e = JSON.parse(line) as PyEvent;
      } catch {
        this.stderr.push(`(stdout) ${line}`);
        return;
      }
      this.events.push(e);
      for (const w of this.waiters.splice(0)) {
        if (w.pred(e)) w.resolve(e);
        else this.waiters.push(w);
      }
    });
    proc.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  }

  static start(script: string, args: string[]): PyPeer {
    return new PyPeer(spawn(python(), [join(PEERS, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** The first event (past or future) matching `pred`. */
  wait(pred: (e: PyEvent) => boolean, ms = 15000): Promise<PyEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching event in ${ms} ms; stderr: ${this.stderr.join('').slice(-2000)}`)), ms);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  }

  of(event: string): PyEvent[] {
    return this.events.filter((e) => e.event === event);
  }
}

/** `pattern(tag, n)` of the peers' convention. */
export function pattern(tag: string, n: number): Buffer {
  return Buffer.from(tag.repeat(Math.ceil(n / tag.length) + 1)).subarray(0, Math.max(0, n));
}

export const MODES: Record<string, RetryMode> = {
  NONE: RetryMode.NONE,
  BEST_EFFORT: RetryMode.BEST_EFFORT,
  RETRY_ON_TIMEOUT: RetryMode.RETRY_ON_TIMEOUT,
};

/** Our side of the peers' convention: `echo:`, `big:`, `burst:`, `disconnect`. */
export class ConventionHandler extends EventHandler {
  readonly connects: number[] = [];
  readonly disconnects: number[] = [];
  readonly received: string[] = [];
  readonly callbacks = new Map<string, boolean[]>();
  errors = 0;

  override connect(c: ClientHandle): void {
    this.connects.push(c.token);
  }
  override disconnect(c: ClientHandle): void {
    this.disconnects.push(c.token);
  }
  override handleMessage(c: ClientHandle, _seq: number, msg: Uint8Array): void {
    const b = Buffer.from(msg);
    const text = b.subarray(0, 64).toString('latin1');
    this.received.push(text.split(':').slice(0, 3).join(':'));
    const cb = (id: string) => (acked: boolean) => {
      const list = this.callbacks.get(id) ?? [];
      list.push(acked);
      this.callbacks.set(id, list);
    };
    if (text.startsWith('echo:')) {
      const [, mode, id] = text.split(':');
      c.send(Buffer.concat([Buffer.from('re:'), b.subarray(5)]), MODES[mode], cb(`${mode}:${id}`));
    } else if (text.startsWith('big:') || text.startsWith('burst:')) {
      const parts = b.toString('latin1').split(':');
      const [kind, mode, id] = parts;
      const count = kind === 'burst' ? Number(parts[3]) : 1;
      const size = Number(kind === 'burst' ? parts[4] : parts[3]);
      for (let k = 0; k < count; k++) {
        const rid = kind === 'burst' ? `${id}.${k}` : id;
        const prefix = `re:${mode}:${rid}:`;
        c.send(Buffer.concat([Buffer.from(prefix), pattern(`${mode}.${rid}|`, size - prefix.length)]), MODES[mode], cb(`${mode}:${rid}`));
      }
    } else if (text.startsWith('disconnect')) {
      c.disconnect();
    } else {
      this.errors++;
    }
  }
}
