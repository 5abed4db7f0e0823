/** The systems of functional services: `ServiceSystem`. */
import type { EventData } from '../core/events.js';
import type { RpcHandler } from '../core/host.js';
import { comm, NodeSystem, nodeOf, roleOf } from '../core/node-system.js';
import type { RpcCallback, RpcResult } from '../core/rpc.js';
import { SERVICE_ROLE, type ServiceHttpHandler, type ServiceRole } from './service-role.js';

function serviceOf(s: ServiceSystem): ServiceRole {
  return roleOf(s, SERVICE_ROLE, 'a ServiceSystem runs on a service node');
}

export class ServiceSystem extends NodeSystem {
  /** The modules this service serves (config `module_names`). */
  get moduleNames(): string[] {
    const e = nodeOf(this).entry;
    return e.role === 'service' ? [...e.module_names] : [];
  }

  /** Sends an event to the master. */
  notifyToMaster(event: string, data?: EventData): void {
    comm.notifyToMaster(this, event, data);
  }

  /** Sends an event to one lobby/game. */
  notifyToServerNode(serverId: number, event: string, data?: EventData): void {
    comm.notifyToServerNode(this, serverId, event, data);
  }

  /** Sends an event to one service. */
  notifyToServiceNode(serviceId: number, event: string, data?: EventData): void {
    comm.notifyToServiceNode(this, serviceId, event, data);
  }

  /** Sends an event to every service (this one included). */
  broadcastToService(event: string, data?: EventData): void {
    comm.broadcastToService(this, event, data);
  }

  /** Sends an event to every lobby/game of a type, and to no other node. */
  broadcastToServerByType(serverType: string, event: string, data?: EventData): void {
    comm.broadcastToServerByType(this, serverType, event, data);
  }

  /** Sends an event to a client through its proxy (the proxy id comes with the player's events). */
  remoteNotifyToClient(uid: number, proxyId: number, event: string, data?: EventData): void {
    const n = nodeOf(this);
    n.sendOp(proxyId, 'cev', { uid, ns: this.namespace, sys: this.systemName, ev: event, data: data ?? {} });
  }

  /** Serves `event` of `module` (requestToService); one handler per event, a later one replaces. */
  registerRpcMethod<T = EventData>(module: string, event: string, fn: RpcHandler<T>): void {
    comm.registerRpcMethod(this, module, event, fn);
  }

  /** Serves `event` for requests to this service's type (requestToServiceMod); one handler per event. */
  registerRpcMethodForMod<T = EventData>(event: string, fn: RpcHandler<T>): void {
    comm.registerRpcMethodForMod(this, event, fn);
  }

  /** Sends a request to one node serving `module`. `callback(false, null)` on timeout (s). */
  requestToService<T = EventData>(module: string, event: string, data?: EventData, callback?: RpcCallback<T> | null, timeout?: number): Promise<RpcResult<T>> {
    return comm.requestToService(this, module, event, data, callback, timeout);
  }

  /** Sends a request to one service of type `serviceType`. `callback(false, null)` on timeout (s). */
  requestToServiceMod<T = EventData>(serviceType: string, method: string, args?: EventData, callback?: RpcCallback<T> | null, timeout?: number): Promise<RpcResult<T>> {
    return comm.requestToServiceMod(this, serviceType, method, args, callback, timeout);
  }

  /**
   * Serves `url` for the master's `masterHttp.sendHttpRequestToService(thisId, url, body)`:
   * `handler(clientId, requestBody)`; answer with `sendHttpResponse(clientId, message)`.
   */
  registerServiceHttp(url: string, handler: ServiceHttpHandler): void {
    serviceOf(this).register(url, handler);
  }

  /** Answers an HTTP request the master sent (see registerServiceHttp); false when it expired. */
  sendHttpResponse(clientId: number, message: string | object): boolean {
    return serviceOf(this).respond(clientId, message);
  }

  /** Answers a request (`serverId` and `callbackId` as the handler got them). A late answer is dropped by the caller. */
  responseToServer(serverId: number, callbackId: number, data?: unknown): void {
    comm.responseToServer(this, serverId, callbackId, data);
  }
}
