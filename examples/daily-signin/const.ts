/** Names shared by the daily sign-in mod's systems. */
export const ModName = 'neteaseDaily';
export const ServerSystemName = 'dailyServer';
export const ServiceSystemName = 'dailyService';
export const ClientSystemName = 'dailyClient';

/** The service type in the deploy config (servicelist[].type), used by requestToServiceMod. */
export const ServiceType = 'daily';

/** lobby → client: open the daily reward UI with this data. */
export const DisplayDailyRewardEvent = 'DisplayDailyRewardEvent';
/** client → lobby: the player pressed "sign in"; lobby → client: the result. */
export const PlayerRecvEvent = 'PlayerRecvEvent';
/** lobby → service (RPC): has this uid signed in today? */
export const QueryDailyMethod = 'QueryDaily';
/** lobby → service (RPC): sign this uid in for today. */
export const SignInMethod = 'SignIn';

/** What one day's sign-in is worth. */
export const DailyReward = { gold: 100 } as const;

export interface DisplayDailyRewardData {
  /** The day the UI was opened for (YYYY-MM-DD); the client sends it back as `valid`. */
  validDate: string;
  signedToday: boolean;
  reward: { gold: number };
}

export interface PlayerRecvRequest {
  playerId: string;
  valid: string;
}

export interface PlayerRecvResult {
  ok: boolean;
  reason: string | null;
  reward: { gold: number } | null;
  /** The player's gold after the reward. */
  totalGold: number;
}
