/** The master's systems (seed 000/001: MasterSystem). */
import type { EventData } from '../events.js';
import { NetgameApi, ServerManager } from '../master/api.js';
import type { ClusterNode, RpcHandler } from '../node.js';
import type { RpcCallback, RpcResult } from '../rpc.js';
import { comm, NodeSystem, nodeOf } from './node-system.js';

const apis = new WeakMap<ClusterNode, { netgameApi: NetgameApi; serverManager: ServerManager }>();

function apisOf(s: MasterSystem): { netgameApi: NetgameApi; serverManager: ServerManager } {
  const node = nodeOf(s);
  let a = apis.get(node);
  if (!a) {
    const core = node.masterCore!;
    a = { netgameApi: new NetgameApi(core, node.config), serverManager: new ServerManager(core) };
    apis.set(node, a);
  }
  return a;
}

export class MasterSystem extends NodeSystem {
  /** Seed 000's `netgameApi` (config, online players, login strategy; bans come later). */
  get netgameApi(): NetgameApi {
    return apisOf(this).netgameApi;
  }

  /** Seed 000's `serverManager` (status and online counts; lifecycle comes later). */
  get serverManager(): ServerManager {
    return apisOf(this).serverManager;
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
