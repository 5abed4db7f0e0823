/**
 * The main job: `gamewire demo` (what `npm start` runs), as a child process of the built CLI
 * (`bin/gamewire.js`; `npm test` builds first, or `node scripts/build.mjs ts`). The scripted story
 * (logins over UDP, sign-ins, a ban over the HTTP admin API refusing a login with the seed's text,
 * an unban letting it in) completes; without --duration it runs until SIGINT and exits 0, with
 * the dashboard and the admin API answering meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/child.js';

const BIN = join(ROOT, 'bin', 'gamewire.js');

class Demo {
  stdout = '';
  stderr = '';
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [BIN, 'demo', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }
  async until(re: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.stdout.match(re);
      if (m) return m;
      if (this.proc.exitCode !== null) throw new Error(`demo exited (${this.proc.exitCode}): ${this.stderr}\n${this.stdout.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no ${re} in ${ms} ms: ${this.stdout.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('gamewire demo (npm start)', () => {
  it('is built', () => {
    expect(existsSync(join(ROOT, 'dist', 'cli', 'demo', 'demo.js'))).toBe(true);
    // The daily sign-in example, compiled in by the build.
    expect(existsSync(join(ROOT, 'dist', 'cli', 'demo', 'daily-signin', 'mod.js'))).toBe(true);
  });

  it('--duration 10: the scripted story completes and it exits 0', async () => {
    const d = new Demo(['--duration', '10']);
    expect(await d.exited).toBe(0);
    expect(d.stdout).toContain('story complete');
    expect(d.stdout).toContain(
      'Your account has been banned, the remaining ban time: 0 days 1 hours 0 minutes, ban reason: cheating (demo). If you have any questions, please go to the customer service area for feedback',
    );
    const last = d.stdout.slice(d.stdout.lastIndexOf('story: complete'));
    expect(last.match(/\[x\]/g)).toHaveLength(7);
    expect(d.stdout).toMatch(/players online \d+ of 6 bots/);
    expect(d.stdout).toMatch(/4000\s+lobby\s+2 connected/);
    expect(d.stdout.trimEnd().endsWith('gamewire demo stopped cleanly')).toBe(true);
  }, 60_000);

  it('without --duration: runs until SIGINT, the dashboard and the admin API answer, then it stops cleanly with 0', async () => {
    const d = new Demo(['--bots', '4']);
    try {
      const [, dashboard] = await d.until(/dashboard: (http:\/\/\S+)/);
      const [, api, secret] = await d.until(/master HTTP: (http:\/\/\S+) \(secret: (\S+)\)/);
      await d.until(/story complete/);
      const page = await fetch(dashboard!);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      expect((await fetch(`${api}/admin/status`)).status).toBe(401);
      const status = (await (await fetch(`${api}/admin/status`, { headers: { authorization: `Bearer ${secret}` } })).json()) as { servers: Array<{ serverId: number; status: number }> };
      expect(status.servers.map((s) => [s.serverId, s.status])).toEqual([
        [2000, 2],
        [4000, 2],
        [4001, 2],
        [8000, 2],
      ]);
      d.proc.kill('SIGINT');
      expect(await d.exited).toBe(0);
      expect(d.stdout.trimEnd().endsWith('gamewire demo stopped cleanly')).toBe(true);
    } finally {
      if (d.proc.exitCode === null) d.proc.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses bad usage with exit 2', async () => {
    const d = new Demo(['--bots', 'many']);
    expect(await d.exited).toBe(2);
    expect(d.stderr).toMatch(/^gamewire demo: --bots takes a whole number from 3 to 200/);
    expect(d.stderr).not.toMatch(/\n\s+at /); // no stack
  });
});
