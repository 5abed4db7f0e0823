/**
 * The base of the systems that run on a node (master, lobby/game, service), and the
 * communication methods they share. Each role's class exposes exactly the methods its role has;
 * the implementations live here once, over the node's `NodeHost`.
 */
import { ArgumentError, GamewireError } from '../../errors.js';
import type { ClusterConfig, NodeEntry } from '../cluster-config.js';
import type { EventData } from './events.js';
import type { NodeHost, RoleKey, RpcHandler } from './host.js';
import type { RpcCallback, RpcResult } from './rpc.js';
import { hostOf, System } from './system.js';

/** The node a system runs on. */
export function nodeOf(system: System): NodeHost {
  const h = hostOf(system);
  if (h.kind !== 'node') throw new GamewireError('ERR_SYSTEM', 'this system does not run on a node');
  return h as NodeHost;
}

/** The role part `key` of the node a system runs on; `misplaced` is the error when it has none. */
export function roleOf<T>(system: System, key: RoleKey<T>, misplaced: string): T {
  const part = nodeOf(system).part(key);
  if (!part) throw new GamewireError('ERR_SYSTEM', misplaced);
  return part;
}

export abstract class NodeSystem extends System {
  /** This node's server id. */
  get serverId(): number {
    return nodeOf(this).serverId;
  }
  /** This node's type (`master`, `lobby`, a game type, a service type). */
  get serverType(): string {
    return nodeOf(this).serverType;
  }
  /** The cluster's deploy config (validated). Its `raw` is the config as written. */
  get config(): ClusterConfig {
    return nodeOf(this).config;
  }
  /** This node's own entry of the config. */
  get nodeConfig(): NodeEntry {
    return nodeOf(this).entry;
  }
}

/** The implementations the role system classes share; `s` is the calling system. */
export const comm = {
  notifyToMaster(s: NodeSystem, event: string, data: EventData | undefined): void {
    const n = nodeOf(s);
    n.sendEventToNode(n.config.master.serverid, 'master', s.namespace, s.systemName, event, data);
  },
  notifyToServerNode(s: NodeSystem, serverId: number, event: string, data: EventData | undefined): void {
    nodeOf(s).sendEventToNode(serverId, 'server', s.namespace, s.systemName, event, data);
  },
  notifyToServiceNode(s: NodeSystem, serviceId: number, event: string, data: EventData | undefined): void {
    nodeOf(s).sendEventToNode(serviceId, 'service', s.namespace, s.systemName, event, data);
  },
  broadcastToService(s: NodeSystem, event: string, data: EventData | undefined): void {
    const n = nodeOf(s);
    n.sendEvent(n.subjects.services(), s.namespace, s.systemName, event, data);
  },
  broadcastToServerByType(s: NodeSystem, serverType: string, event: string, data: EventData | undefined): void {
    const n = nodeOf(s);
    if (typeof serverType !== 'string' || !/^[A-Za-z0-9_-]+$/.test(serverType)) throw new ArgumentError(`server type ${JSON.stringify(serverType)} is not a valid type`);
    if (n.serversOfType(serverType).length === 0) n.log.debug({ serverType, event }, 'no lobby/game of this type in the config');
    n.sendEvent(n.subjects.serverType(serverType), s.namespace, s.systemName, event, data);
  },
  requestToService<T>(s: NodeSystem, module: string, event: string, data: EventData | undefined, callback: RpcCallback<T> | null | undefined, timeout: number | undefined): Promise<RpcResult<T>> {
    if (typeof module !== 'string' || !/^[A-Za-z0-9_-]+$/.test(module)) throw new ArgumentError(`module ${JSON.stringify(module)} is not a valid module name`);
    return nodeOf(s).request<T>({ module }, event, data ?? {}, callback ?? undefined, timeout);
  },
  requestToServiceMod<T>(s: NodeSystem, serviceType: string, method: string, args: EventData | undefined, callback: RpcCallback<T> | null | undefined, timeout: number | undefined): Promise<RpcResult<T>> {
    if (typeof serviceType !== 'string' || !/^[A-Za-z0-9_-]+$/.test(serviceType)) throw new ArgumentError(`service type ${JSON.stringify(serviceType)} is not a valid type`);
    return nodeOf(s).request<T>({ serviceType }, method, args ?? {}, callback ?? undefined, timeout);
  },
  responseToServer(s: NodeSystem, serverId: number, callbackId: number, data: unknown): void {
    nodeOf(s).respond(serverId, callbackId, data);
  },
  registerRpcMethod<T>(s: NodeSystem, module: string, event: string, fn: RpcHandler<T>): void {
    nodeOf(s).registerModuleHandler(module, event, fn as RpcHandler<never>, `${s.namespace}.${s.systemName}`);
  },
  registerRpcMethodForMod<T>(s: NodeSystem, event: string, fn: RpcHandler<T>): void {
    nodeOf(s).registerTypeHandler(event, fn as RpcHandler<never>, `${s.namespace}.${s.systemName}`);
  },
};
