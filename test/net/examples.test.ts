/** The examples run as written (as child processes, importing the built package by name). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../ts/backend/loader.js';
import { CHROMIUM, CHROMIUM_ARGS, ensureBrowserBuild } from '../browser/helpers/chromium.js';
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

  it('browser-chat: a WebTransport page, a WebSocket page and a Node player see each other in one room', async () => {
    ensureBrowserBuild();
    const server = run('examples/browser-chat/server.ts', ['0', '0', '0']);
    await until(() => server.lines.some((l) => l.startsWith('chat: open')), 20_000, 'browser-chat server');
    const m = /^chat: open (http:\/\/127\.0\.0\.1:(\d+)\/) ; UDP players on port (\d+)/.exec(server.lines.find((l) => l.startsWith('chat: open'))!)!;
    const [, url, httpPort, udpPort] = m;
    const dataDir = mkdtempSync(join(tmpdir(), 'gamewire-chat-'));
    const context = await chromium.launchPersistentContext(dataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    try {
      const open = async (query: string) => {
        const page = await context.newPage();
        await page.goto(`${url}${query}`);
        await page.waitForSelector('#status[data-state="connected"]', { timeout: 15_000 });
        const token = Number(/as (\d+)$/.exec((await page.textContent('#status')) ?? '')![1]);
        return { page, token, transport: await page.getAttribute('#status', 'data-transport') };
      };
      const wt = await open('');
      const ws = await open('?transport=websocket');
      expect(wt.transport).toBe('webtransport');
      expect(ws.transport).toBe('websocket');
      const bot = run('examples/browser-chat/bot.ts', ['robot', udpPort, httpPort]);
      await until(() => bot.lines.some((l) => l.startsWith('joined as')), 15_000, 'the bot to join');
      const botToken = Number(bot.lines.find((l) => l.startsWith('joined as'))!.slice('joined as '.length));

      const say = async (p: Page, text: string) => {
        await p.fill('#line', text);
        await p.press('#line', 'Enter');
      };
      await say(wt.page, 'hello from WebTransport');
      await say(ws.page, 'hello from a WebSocket');
      bot.p.stdin!.write('hello from Node\n');
      const expected = [`${wt.token}: hello from WebTransport`, `${ws.token}: hello from a WebSocket`, `${botToken}: [robot] hello from Node`];
      const logOf = async (p: Page) => ((await p.textContent('#log')) ?? '').split('\n');
      for (const line of expected) {
        await until(() => bot.lines.includes(line), 10_000, `the bot to see "${line}"`);
        for (const p of [wt.page, ws.page]) await waitForText(p, line);
      }
      // Everyone saw the joins after theirs, each naming its transport.
      expect(bot.lines).toContain(`* ${botToken} joined over udp (3 here)`);
      expect(await logOf(wt.page)).toEqual(expect.arrayContaining([
        `* ${wt.token} joined over webtransport (1 here)`,
        `* ${ws.token} joined over websocket (2 here)`,
        `* ${botToken} joined over udp (3 here)`,
      ]));
      await ws.page.close();
      await until(() => bot.lines.includes(`* ${ws.token} left`), 15_000, 'the bot to see the WebSocket page leave');
      await waitForText(wt.page, `* ${ws.token} left`);
      bot.p.stdin!.end();
      expect(await bot.exited).toBe(0);
      await waitForText(wt.page, `* ${botToken} left`);
    } finally {
      await context.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    server.p.kill('SIGINT');
    expect(await server.exited).toBe(0);
  }, 90_000);
});

/** Waits until a line of the page's chat log is `line`. */
async function waitForText(page: Page, line: string): Promise<void> {
  type Doc = { document: { getElementById(id: string): { textContent: string | null } | null } };
  await page.waitForFunction((l) => ((globalThis as unknown as Doc).document.getElementById('log')?.textContent ?? '').split('\n').includes(l), line, { timeout: 10_000 });
}
