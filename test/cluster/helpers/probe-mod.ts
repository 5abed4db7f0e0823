/**
 * The `probe` mod: one plain system per role, so tests can call every communication method on
 * real nodes and listen for what arrives (`listenForEvent` is public).
 */
import {
  ClientSystem,
  defineMod,
  ENGINE_NAMESPACE,
  ENGINE_SYSTEM_NAME,
  EngineEvents,
  MasterSystem,
  ServerSystem,
  ServiceSystem,
  type EventData,
  type MasterConnectStatusEventData,
  type System,
} from '../../../ts/cluster/index.js';

export class ProbeMaster extends MasterSystem {}

/**
 * Lobby/game: records MasterConnectStatusEvent and the reset events from construction on, and
 * answers a client's `ProbePing` with `ProbePong` (same data, plus `by`: its server id).
 */
export class ProbeServer extends ServerSystem {
  readonly masterStatus: boolean[] = [];
  readonly resetEvents: Array<'begin' | 'end'> = [];
  destroyed = false;
  /** Called from destroy() (tests look at the world at that moment). */
  onDestroy: (() => void) | null = null;
  override destroy(): void {
    this.destroyed = true;
    this.onDestroy?.();
  }
  constructor(ns: string, name: string) {
    super(ns, name);
    this.listenForEvent(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents.MasterConnectStatusEvent, (d: MasterConnectStatusEventData) => {
      this.masterStatus.push(d.isConnect);
    });
    this.listenForEvent(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents.ResetGamesBeginEvent, () => void this.resetEvents.push('begin'));
    this.listenForEvent(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents.ResetGamesEndEvent, () => void this.resetEvents.push('end'));
    this.listenForEvent(PROBE, 'client', 'ProbePing', (d: EventData & { __id__: string }) => {
      this.notifyToClient(d.__id__, 'ProbePong', { ...d, by: this.serverId });
    });
  }
}

/** Service: records MasterConnectStatusEvent from construction on. */
export class ProbeService extends ServiceSystem {
  readonly masterStatus: boolean[] = [];
  constructor(ns: string, name: string) {
    super(ns, name);
    this.listenForEvent(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents.MasterConnectStatusEvent, (d: MasterConnectStatusEventData) => {
      this.masterStatus.push(d.isConnect);
    });
  }
}

export class ProbeClient extends ClientSystem {}

export const PROBE = 'probe';

defineMod('probe', {
  master: [{ namespace: PROBE, systemName: 'master', system: ProbeMaster }],
  server: [{ namespace: PROBE, systemName: 'server', system: ProbeServer }],
  service: [{ namespace: PROBE, systemName: 'service', system: ProbeService }],
  client: [{ namespace: PROBE, systemName: 'client', system: ProbeClient }],
});

export interface Received {
  at: number | string;
  data: EventData;
}

/**
 * Listens on each system for `(ns, sys, ev)`; returns the list every arrival is pushed onto,
 * tagged with `tag(system)` (default: its serverId).
 */
export function record(systems: Array<System & { serverId?: number | null }>, ns: string, sys: string, ev: string, tag?: (s: System) => number | string): Received[] {
  const got: Received[] = [];
  for (const s of systems) {
    s.listenForEvent(ns, sys, ev, (data: EventData) => {
      got.push({ at: tag ? tag(s) : (s.serverId ?? -1), data });
    });
  }
  return got;
}
