/**
 * The page side of a message exchange: a BrowserClient in the page connects, sends 10 messages
 * in each retry mode, waits for every reply (the server answers each probe `{ i, mode }` with
 * `re:` and the probe, in the same mode) and every callback, then disconnects.
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** Where and how the page connects; the last message is padded with `big` bytes (fragmented). */
export interface ExchangeArgs {
  url: unknown;
  pem: string;
  transport: string;
  hashes?: string[];
  big: number;
}

/** What `exchange` returns from the page. */
export interface Exchange {
  transport: string;
  token: number;
  /** Callback results per message index (each must hold exactly one value). */
  calls: Record<string, boolean[]>;
  /** [index, reply length] per reply received. */
  replies: [number, number][];
  events: unknown[][];
  statsSent: number;
  latency: number;
  statusAfter: number;
}

/**
 * In the page: connect, send 10 messages in each retry mode (the last one `big` bytes, so it is
 * fragmented), wait for every reply and every callback, then disconnect.
 */
export function exchange(page: Page, args: ExchangeArgs): Promise<Exchange> {
  return page.evaluate(async ({ url, pem, transport, hashes, big }) => {
    type Client = {
      on(e: string, f: (...a: never[]) => void): void;
      connect(u: unknown, o: unknown): Promise<void>;
      send(b: Uint8Array, m: number, cb: (acked: boolean) => void): void;
      disconnect(): Promise<void>;
      stats: { messagesSent: number };
      token: number;
      latency: number;
      status: number;
      transport: string;
    };
    const gw = (globalThis as unknown as { gw: { BrowserClient: new (o: unknown) => Client; RetryMode: Record<string, number> } }).gw;
    const client = new gw.BrowserClient({ rootPublicKey: pem });
    const events: unknown[][] = [];
    const replies = new Map<number, number>();
    client.on('message', (_seq: never, bytes: never) => {
      const b = bytes as Uint8Array;
      const text = new TextDecoder().decode(b);
      replies.set((JSON.parse(text.slice(3, text.indexOf('}') + 1)) as { i: number }).i, b.length);
    });
    client.on('connected', () => events.push(['connected']));
    client.on('disconnected', (status: never, reason: never) => events.push(['disconnected', status, reason]));
    await client.connect(url, { transport, serverCertificateHashes: hashes });
    const kind = client.transport;
    const calls: Record<string, boolean[]> = {};
    const modes = [gw.RetryMode.NONE, gw.RetryMode.BEST_EFFORT, gw.RetryMode.RETRY_ON_TIMEOUT];
    let i = 0;
    for (const mode of modes) {
      for (let k = 0; k < 10; k++) {
        const id = i++;
        const body = JSON.stringify({ i: id, mode }) + 'x'.repeat(id === 29 ? big : 0);
        client.send(new TextEncoder().encode(body), mode, (acked) => (calls[id] ??= []).push(acked));
      }
    }
    const t0 = performance.now();
    while ((replies.size < 30 || Object.keys(calls).length < 30) && performance.now() - t0 < 10_000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const statsSent = client.stats.messagesSent;
    const token = client.token;
    const latency = client.latency;
    await client.disconnect();
    return { transport: kind, token, calls, replies: [...replies.entries()], events, statsSent, latency, statusAfter: client.status };
  }, args);
}

export function expectExactlyOnce(r: Exchange): void {
  expect(Object.keys(r.calls).length).toBe(30);
  for (let i = 0; i < 30; i++) expect(r.calls[i], `callback of message ${i}`).toEqual([true]);
  expect(r.replies.length).toBe(30);
}
