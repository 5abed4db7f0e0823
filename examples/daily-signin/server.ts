/**
 * The lobby: when a player arrives it asks the service whether the player signed in today and
 * tells the client to open the UI; when the client signs in it asks the service to record it and,
 * if that worked, grants the reward.
 */
import { ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents, ServerSystem, type AddServerPlayerEventData } from 'gamewire/cluster';
import {
  ClientSystemName,
  DailyReward,
  DisplayDailyRewardEvent,
  ModName,
  PlayerRecvEvent,
  QueryDailyMethod,
  ServiceType,
  SignInMethod,
  type DisplayDailyRewardData,
  type PlayerRecvRequest,
  type PlayerRecvResult,
} from './const.js';

export class DailyServerSystem extends ServerSystem {
  /** uid → gold granted so far (a real game keeps this in its player data). */
  readonly gold = new Map<number, number>();

  constructor(namespace: string, systemName: string) {
    super(namespace, systemName);
    this.listenForEvent(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents.AddServerPlayerEvent, this, this.onAddPlayer);
    this.listenForEvent(ModName, ClientSystemName, PlayerRecvEvent, this, this.onPlayerRecv);
  }

  override destroy(): void {
    this.unListenForEvent(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents.AddServerPlayerEvent, this, this.onAddPlayer);
    this.unListenForEvent(ModName, ClientSystemName, PlayerRecvEvent, this, this.onPlayerRecv);
  }

  private onAddPlayer(args: AddServerPlayerEventData): void {
    const { playerId, uid } = args;
    this.requestToServiceMod<{ today: string; signedToday: boolean }>(
      ServiceType,
      QueryDailyMethod,
      { uid },
      (ok, data) => {
        if (!ok || !data) {
          this.log.warn({ uid }, 'daily service did not answer');
          return;
        }
        const display: DisplayDailyRewardData = { validDate: data.today, signedToday: data.signedToday, reward: { ...DailyReward } };
        this.notifyToClient(playerId, DisplayDailyRewardEvent, { ...display });
      },
      2,
    );
  }

  private onPlayerRecv(args: PlayerRecvRequest & { __id__: string }): void {
    const playerId = args.__id__; // set by the engine: who really sent it
    const player = this.getPlayer(playerId);
    if (!player) return;
    const uid = player.uid;
    this.requestToServiceMod<{ ok: boolean; reason: string | null }>(
      ServiceType,
      SignInMethod,
      { uid, valid: args.valid },
      (ok, data) => {
        let result: PlayerRecvResult;
        if (!ok || !data) result = { ok: false, reason: 'service-timeout', reward: null, totalGold: this.gold.get(uid) ?? 0 };
        else if (!data.ok) result = { ok: false, reason: data.reason, reward: null, totalGold: this.gold.get(uid) ?? 0 };
        else {
          const total = (this.gold.get(uid) ?? 0) + DailyReward.gold;
          this.gold.set(uid, total);
          result = { ok: true, reason: null, reward: { ...DailyReward }, totalGold: total };
        }
        this.notifyToClient(playerId, PlayerRecvEvent, { ...result });
      },
      2,
    );
  }
}
