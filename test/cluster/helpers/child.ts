/** Spawns cluster nodes as child processes and watches their pino log lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
const ENTRY = join(ROOT, 'test', 'cluster', 'helpers', 'node-main.ts');

export class NodeProcess {
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = '';
  private readonly proc: ChildProcess;
  private readonly exited: Promise<number | null>;
  private listeners: Array<() => void> = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not a log line */
        }
        for (const l of this.listeners.splice(0)) l();
      }
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Resolves with the first log line matching `pred`. */
  async waitForLine(pred: (l: Record<string, unknown>) => boolean, ms = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (this.proc.exitCode !== null) throw new Error(`node exited (${this.proc.exitCode}) before the line: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no such log line in ${ms} ms; stderr: ${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.listeners.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.proc.kill(signal);
  }

  /** SIGTERM, and the exit code (SIGKILL after `ms`). */
  async stop(ms = 10_000): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), ms);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  wait(): Promise<number | null> {
    return this.exited;
  }
}
