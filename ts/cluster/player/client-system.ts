/** The systems of a game client: `ClientSystem`. */
import { ArgumentError, GamewireError } from '../../errors.js';
import type { EventData } from '../core/events.js';
import { hostOf, System } from '../core/system.js';
import type { ClientHost, GameClient } from './game-client.js';

function clientOf(s: System): ClientHost {
  const h = hostOf(s);
  if (h.kind !== 'client') throw new GamewireError('ERR_SYSTEM', 'this system does not run on a client');
  return h as ClientHost;
}

export class ClientSystem extends System {
  /** The client this system runs on. */
  get client(): GameClient {
    return clientOf(this) as GameClient;
  }
  /** The player's id on its current server (null before login). */
  get playerId(): string | null {
    return clientOf(this).playerId;
  }
  get uid(): number | null {
    return clientOf(this).uid;
  }
  /** The lobby/game the player is on (null before login). */
  get serverId(): number | null {
    return clientOf(this).serverId;
  }
  get serverType(): string | null {
    return clientOf(this).serverType;
  }

  /** Sends an event to the lobby/game the player is on. Its listeners get `__id__` (the player id) in the data. */
  notifyToServer(event: string, data?: EventData): void {
    clientOf(this).send({ t: 'ev', ns: this.namespace, sys: this.systemName, ev: event, data: checkData(data) });
  }

  /** Sends an event to a service; its listeners get `__proxyId__` and `__uid__` in the data. */
  notifyToServiceNode(serviceId: number, event: string, data?: EventData): void {
    clientOf(this).send({ t: 'sev', to: serviceId, ns: this.namespace, sys: this.systemName, ev: event, data: checkData(data) });
  }
}

function checkData(data: EventData | undefined): EventData {
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ArgumentError('event data is an object (a dict)');
  return data;
}
