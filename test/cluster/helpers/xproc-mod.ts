/**
 * The mod of the cross-process test: the lobby turns a client's `Ask` into a request to a `work`
 * service and tells the client the answer; services answer after a short delay, saying who they are.
 */
import { ClientSystem, defineMod, ServerSystem, ServiceSystem } from '../../../ts/cluster/index.js';

export const NS = 'xproc';
const WORK_MS = Number(process.env.XPROC_WORK_MS ?? 400);

export class XLobby extends ServerSystem {
  constructor(ns: string, name: string) {
    super(ns, name);
    this.listenForEvent(NS, 'client', 'Ask', (d: { __id__: string; i: number; module?: boolean }) => {
      const done = (ok: boolean, data: { by: number } | null) => this.notifyToClient(d.__id__, 'Answer', { i: d.i, ok, by: data?.by ?? null });
      if (d.module) this.requestToService<{ by: number }>('work_module', 'Work', { i: d.i }, done, 1.5);
      else this.requestToServiceMod<{ by: number }>('work', 'Work', { i: d.i }, done, 1.5);
    });
  }
}

export class XService extends ServiceSystem {
  constructor(ns: string, name: string) {
    super(ns, name);
    const work = (serverId: number, callbackId: number) => setTimeout(() => this.responseToServer(serverId, callbackId, { by: this.serverId }), WORK_MS);
    this.registerRpcMethodForMod('Work', work);
    this.registerRpcMethod('work_module', 'Work', work);
  }
}

export class XClient extends ClientSystem {}

defineMod('xproc', {
  server: [{ namespace: NS, systemName: 'lobby', system: XLobby }],
  service: [{ namespace: NS, systemName: 'service', system: XService }],
  client: [{ namespace: NS, systemName: 'client', system: XClient }],
});
