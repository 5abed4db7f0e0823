/**
 * Child processes of the load benchmark and a tiny request/response protocol with them:
 * TypeScript children are forked with tsx and talk over the IPC channel; Python children speak
 * the same messages as JSON lines on stdin/stdout. A request is `{id, cmd, args}`, the answer
 * `{id, ok: true, result}` or `{id, ok: false, error}`.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Request {
  id: number;
  cmd: string;
  args?: unknown;
}

export interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** A child process answering requests. */
export class Child {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined = undefined;

  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    private readonly write: (req: Request) => void,
  ) {
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      this.stderr.push(d);
      if (this.stderr.length > 50) this.stderr.shift();
    });
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        const err = new Error(`${name} exited (${code ?? signal}) ${this.stderrTail()}`);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
        resolve(code);
      });
    });
    proc.on('error', (err) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** The end of what the child wrote to stderr. */
  stderrTail(chars = 2000): string {
    return this.stderr.join('').slice(-chars).trim();
  }

  /** @internal Delivers an answer from the child. */
  deliver(r: Reply): void {
    const w = this.waiting.get(r.id);
    if (!w) return;
    this.waiting.delete(r.id);
    if (r.ok) w.resolve(r.result);
    else w.reject(new Error(`${this.name}: ${r.error ?? 'failed'}`));
  }

  /** Sends a request; rejects after `timeoutMs` or if the child dies. */
  call<T>(cmd: string, args?: unknown, timeoutMs = 60_000): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`${this.name} is not running ${this.stderrTail()}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms ${this.stderrTail(500)}`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      try {
        this.write({ id, cmd, args });
      } catch (err) {
        this.waiting.delete(id);
        clearTimeout(timer);
        reject(err as Error);
      }
    });
  }

  /** Asks the child to exit (`exit` request), then kills it if it has not after `graceMs`. */
  async close(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    try {
      await this.call('exit', undefined, graceMs);
    } catch {
      // it may exit before answering
    }
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }

  kill(): void {
    if (this.alive) this.proc.kill('SIGKILL');
  }

  /**
   * Forks a module that calls `serve()`: a JavaScript bundle (`lib/build.ts`), or a TypeScript
   * module run with tsx when `tsx` is set.
   */
  static fork(name: string, module: URL | string, argv: string[] = [], opts: { tsx?: boolean; execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}): Child {
    const proc = fork(typeof module === 'string' ? module : fileURLToPath(module), argv, {
      execArgv: [...(opts.tsx ? ['--import', 'tsx'] : []), ...(opts.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: { ...process.env, GAMEWIRE_LOG_LEVEL: process.env.GAMEWIRE_LOG_LEVEL ?? 'warn', ...opts.env },
      serialization: 'json',
    });
    let child: Child | null = null;
    child = new Child(name, proc, (req) => proc.send(req));
    proc.on('message', (m) => child?.deliver(m as Reply));
    return child;
  }

  /** Spawns a Python script speaking JSON lines (`python/bench_common.py` `serve`). */
  static spawnPython(name: string, python: string, script: string, argv: string[] = []): Child {
    return Child.spawnLines(name, python, [script, ...argv], { PYTHONUNBUFFERED: '1' });
  }

  /**
   * Spawns any program speaking JSON lines: requests on its stdin, replies on its stdout (other
   * lines ignored), as the Python scripts and the Rust floor (`bench/floor`) do.
   */
  static spawnLines(name: string, command: string, argv: string[] = [], env: NodeJS.ProcessEnv = {}): Child {
    const proc = spawn(command, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const child = new Child(name, proc, (req) => {
      proc.stdin!.write(`${JSON.stringify(req)}\n`);
    });
    proc.stdin!.on('error', () => undefined);
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        child.deliver(JSON.parse(line) as Reply);
      } catch {
        // not a reply
      }
    });
    return child;
  }
}

/** In a forked TypeScript child: answers requests with `handlers` until `exit`. */
export function serve(handlers: Record<string, (args: never) => unknown>): void {
  const send = (r: Reply): void => {
    process.send?.(r);
  };
  process.on('message', (m: unknown) => {
    const req = m as Request;
    if (req.cmd === 'exit') {
      Promise.resolve(handlers.exit?.(undefined as never))
        .catch(() => undefined)
        .finally(() => {
          send({ id: req.id, ok: true });
          setTimeout(() => process.exit(0), 20);
        });
      return;
    }
    const h = handlers[req.cmd];
    if (!h) {
      send({ id: req.id, ok: false, error: `unknown command ${req.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => h(req.args as never))
      .then(
        (result) => send({ id: req.id, ok: true, result }),
        (err: unknown) => send({ id: req.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}
