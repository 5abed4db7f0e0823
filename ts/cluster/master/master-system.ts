/** The systems of the master: `MasterSystem`, with the master's API (netgameApi, masterHttp, serverManager). */
import type { EventData } from '../core/events.js';
import type { RpcHandler } from '../core/host.js';
import { comm, NodeSystem, roleOf } from '../core/node-system.js';
import type { RpcCallback, RpcResult } from '../core/rpc.js';
import type { MasterHttpApi, NetgameApi, ServerManager } from './master-api.js';
import { MASTER_ROLE, type MasterRole } from './master-role.js';

function masterOf(s: MasterSystem): MasterRole {
  return roleOf(s, MASTER_ROLE, 'a MasterSystem runs on the master node');
}

export class MasterSystem extends NodeSystem {
  /** `netgameApi`: config queries, bans and mutes (durable), online players, the login strategy. */
  get netgameApi(): NetgameApi {
    return masterOf(this).api.netgameApi;
  }

  /** `masterHttp`: the HTTP server on the master's configured address. */
  get masterHttp(): MasterHttpApi {
    return masterOf(this).api.masterHttp;
  }

  /** `serverManager`: statuses, online counts, stop, reset, rolling close and update. */
  get serverManager(): ServerManager {
    return masterOf(this).api.serverManager;
  }

  /** Sends an event to one lobby/game. */
  notifyToServerNode(serverId: number, event: string, data?: EventData): void {
    comm.notifyToServerNode(this, serverId, event, data);
  }

  /** Sends an event to one service. */
  notifyToServiceNode(serviceId: number, event: string, data?: EventData): void {
    comm.notifyToServiceNode(this, serviceId, event, data);
  }

  /** Sends an event to every service. */
  broadcastToService(event: string, data?: EventData): void {
    comm.broadcastToService(this, event, data);
  }

  /** Serves `event` of `module` (requestToService); one handler per event, a later one replaces. */
  registerRpcMethod<T = EventData>(module: string, event: string, fn: RpcHandler<T>): void {
    comm.registerRpcMethod(this, module, event, fn);
  }

  /** Sends a request to one node serving `module`. `callback(false, null)` on timeout (s). */
  requestToService<T = EventData>(module: string, event: string, data?: EventData, callback?: RpcCallback<T> | null, timeout?: number): Promise<RpcResult<T>> {
    return comm.requestToService(this, module, event, data, callback, timeout);
  }

  /** Sends a request to one service of type `serviceType`. `callback(false, null)` on timeout (s). */
  requestToServiceMod<T = EventData>(serviceType: string, method: string, args?: EventData, callback?: RpcCallback<T> | null, timeout?: number): Promise<RpcResult<T>> {
    return comm.requestToServiceMod(this, serviceType, method, args, callback, timeout);
  }

  /** Answers a request this master's registerRpcMethod handler got. */
  responseToServer(serverId: number, callbackId: number, data?: unknown): void {
    comm.responseToServer(this, serverId, callbackId, data);
  }
}
