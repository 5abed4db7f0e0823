/** The examples run as written (as child processes, importing the built package by name). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../ts/backend/loader.js';
import { until } from '../helpers/net.js';

const procs: ChildProcess[] = [];
afterEach(() => procs.splice(0).forEach((p) => p.kill('SIGINT')));

function run(script: string, args: string[]) {
  const p = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: packageRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  procs.push(p);
  const lines: string[] = [];
  createInterface({ input: p.stdout! }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  return { p, lines, exited };
}

describe('examples', () => {
  it('echo: the client gets its three messages back, acked', async () => {
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const server = run('examples/echo/server.ts', [port]);
    await until(() => server.lines.some((l) => l.startsWith('echo on')), 15_000, 'echo server');
    const client = run('examples/echo/client.ts', [port]);
    expect(await client.exited).toBe(0);
    for (let i = 0; i < 3; i++) {
      expect(client.lines.some((l) => l.endsWith(`: hello ${i}`))).toBe(true);
      expect(client.lines).toContain(`message ${i} acked`);
    }
    server.p.kill('SIGINT');
    expect(await server.exited).toBe(0);
  }, 40_000);

  it('chat: a line from one client reaches both', async () => {
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const server = run('examples/chat/server.ts', [port]);
    await until(() => server.lines.some((l) => l.startsWith('chat on')), 15_000, 'chat server');
    const alice = run('examples/chat/client.ts', ['alice', port]);
    const bob = run('examples/chat/client.ts', ['bob', port]);
    // Whichever joins second sees only its own join; both see the line announcing two.
    const both = (lines: string[]) => lines.some((l) => l.endsWith('joined (2 here)'));
    await until(() => both(alice.lines) && both(bob.lines), 15_000, 'both joined');
    alice.p.stdin!.write('hi bob\n');
    // The server broadcasts to both; neither copy is ordered before the other.
    await until(() => bob.lines.some((l) => l.endsWith('[alice] hi bob')), 10_000, 'bob hears alice');
    await until(() => alice.lines.some((l) => l.endsWith('[alice] hi bob')), 10_000, 'alice hears herself');
    alice.p.stdin!.end();
    await until(() => bob.lines.some((l) => l.includes('left')), 10_000, 'bob sees alice leave');
  }, 60_000);
});
