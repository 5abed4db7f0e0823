/**
 * The client: opens the daily reward "UI" when the lobby says so, and signs in when the player
 * presses the button (`recv()`), as the daily reward window of a game client does. Headless: the
 * UI state is kept in `ui`.
 */
import { ClientSystem } from 'gamewire/cluster';
import { DisplayDailyRewardEvent, ModName, PlayerRecvEvent, ServerSystemName, type DisplayDailyRewardData, type PlayerRecvResult } from './const.js';

export class DailyClientSystem extends ClientSystem {
  /** The open UI (null: closed). */
  ui: DisplayDailyRewardData | null = null;
  /** Every sign-in result, in order. */
  readonly results: PlayerRecvResult[] = [];
  private waiters: Array<() => void> = [];

  constructor(namespace: string, systemName: string) {
    super(namespace, systemName);
    this.listenForEvent(ModName, ServerSystemName, DisplayDailyRewardEvent, this, this.onDisplayDailyReward);
    this.listenForEvent(ModName, ServerSystemName, PlayerRecvEvent, this, this.onPlayerRecv);
  }

  private onDisplayDailyReward(data: DisplayDailyRewardData): void {
    this.ui = data;
    this.wake();
  }

  private onPlayerRecv(data: PlayerRecvResult): void {
    this.results.push(data);
    if (this.ui && data.ok) this.ui = { ...this.ui, signedToday: true };
    this.wake();
  }

  /** The "sign in" button: sends the date the UI was opened for, for the lobby to verify. */
  recv(): void {
    if (!this.ui) throw new Error('the daily UI is not open');
    this.notifyToServer(PlayerRecvEvent, { playerId: this.playerId, valid: this.ui.validDate });
  }

  /** Resolves when `pred()` holds (checked after every event this system gets). */
  until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('daily client: timed out')), timeoutMs);
      const check = () => {
        if (!pred()) return this.waiters.push(check);
        clearTimeout(t);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
