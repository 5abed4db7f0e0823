/** The client's systems (seed 001: ClientSystem). */
import { GamewireError } from '../../errors.js';
import { GameClient } from '../client.js';
import type { EventData } from '../events.js';
import { hostOf, System } from './system.js';

function clientOf(s: System): GameClient {
  const h = hostOf(s);
  if (!(h instanceof GameClient)) throw new GamewireError('ERR_SYSTEM', 'this system does not run on a client');
  return h;
}

export class ClientSystem extends System {
  /** The client this system runs on. */
  get client(): GameClient {
    return clientOf(this);
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
  if (typeof data !== 'object' || Array.isArray(data)) throw new GamewireError('ERR_INVALID_ARG', 'event data is an object (a dict)');
  return data;
}
