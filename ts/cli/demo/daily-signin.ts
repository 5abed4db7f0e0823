/**
 * The daily sign-in mod the demo runs: the `examples/daily-signin` example, compiled by the build
 * next to this file (`./daily-signin/`), where it imports `gamewire/cluster` like any user code.
 * The demo loads it when it starts and sees it through the small interfaces below.
 */
import { GamewireError } from '../../errors.js';
import type { ClientSystem, ServiceSystem } from '../../cluster/index.js';

/** What one sign-in gave the player. */
export interface PlayerRecvResult {
  ok: boolean;
  reason: string | null;
  reward: { gold: number } | null;
  totalGold: number;
}

/** The client system: the daily reward "UI" and the sign-in button. */
export interface DailyClient extends ClientSystem {
  ui: { validDate: string; signedToday: boolean } | null;
  readonly results: PlayerRecvResult[];
  recv(): void;
  until(pred: () => boolean, timeoutMs?: number): Promise<void>;
}

/** The service system: who signed in on which day. */
export interface DailyService extends ServiceSystem {
  readonly lastSignIn: Map<number, string>;
}

/** The mod's names (its module defines the mod when it is imported). */
export interface DailySignin {
  ModName: string;
  ClientSystemName: string;
  ServiceSystemName: string;
}

/** Imports the compiled example (it calls defineMod). */
export async function loadDailySignin(): Promise<DailySignin> {
  const url = new URL('./daily-signin/mod.js', import.meta.url).href;
  try {
    return (await import(url)) as DailySignin;
  } catch (err) {
    throw new GamewireError('ERR_MOD', `the demo's daily sign-in mod is not built (${url}): run \`node scripts/build.mjs ts\``, { cause: err });
  }
}
