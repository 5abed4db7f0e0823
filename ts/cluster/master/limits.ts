/**
 * Bounds on the text fields of the master's API (netgameApi, serverManager and the HTTP admin
 * routes). A value beyond one is refused: HTTP 400 naming the field, `ArgumentError` from the
 * programmatic API. The reason bound keeps a ban's login text well inside the player protocol's
 * 64 KiB envelope and the bus's 1 MiB payload, so a ban that is accepted always reaches the player.
 */
export const MASTER_LIMITS = {
  /** Characters of a ban or mute reason. */
  reason: 1024,
  /** Characters of a server type. */
  serverType: 64,
  /** Characters of an app version. */
  appVersion: 64,
  /** Characters of an IP address or host name. */
  ip: 255,
  /** Server ids in one rolling close. */
  serverIds: 1024,
  /** Nodes a rolling update may add beyond the ones it replaces. */
  addNum: 64,
} as const;
