/** Child process: a `BotPool` (many bots, one engine) controlled by the load runner. */
import type { BackendChoice } from '../../../ts/backend/index.js';
import type { NetOptions, RetryMode } from '../../../ts/index.js';
import { serve } from '../lib/proc.js';
import { BotPool } from '../pool.js';

export interface BotsOpenArgs {
  backend?: BackendChoice;
  host: string;
  port: number;
  spkiHex: string;
  count: number;
  firstBot: number;
  net?: NetOptions;
  /** Retry mode of the bots' messages (default NONE). */
  retry?: RetryMode;
}

let pool: BotPool | null = null;

serve({
  open: async (a: BotsOpenArgs) => {
    pool = new BotPool({ ...a, spki: Buffer.from(a.spkiHex, 'hex') });
    await pool.open();
    return { pid: process.pid };
  },
  connect: (a: { concurrency?: number; timeoutMs?: number }) => pool!.connectAll(a.concurrency, a.timeoutMs),
  start: (a: { rateHz: number }) => pool!.startSending(a.rateHz),
  mark: (a: { phase: 'start' | 'end' }) => pool!.mark(a.phase),
  stop: () => pool!.stopSending(),
  report: () => pool!.report(),
  exit: async () => {
    await pool?.close();
  },
});
