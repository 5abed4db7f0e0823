/**
 * Which role part each node gets: the composition of the node core with the roles. The core
 * (core/node.ts) knows roles only through the `RolePart` hooks; this is the one place that knows
 * every role.
 */
import type { NodeHost, RoleKey, RolePart } from './core/host.js';
import type { NodeLauncher } from './master/lifecycle.js';
import { MASTER_ROLE, MasterRole, type MasterMode } from './master/master-role.js';
import { PROXY_ROLE, ProxyRole } from './proxy/proxy-role.js';
import { SERVER_ROLE, ServerRole } from './server/server-role.js';
import { SERVICE_ROLE, ServiceRole } from './service/service-role.js';
import type { Gateway } from './transport/gateway/gateway.js';
import { GamewireError } from '../errors.js';

/** What the roles need from the node's owner. */
export interface RoleOptions {
  /** Proxies: the transport players connect over. */
  gateway?: Gateway | undefined;
  /** Proxies: accept bare uids instead of connect tokens (development only). */
  devBareUidLogin?: boolean | undefined;
  /** The master: `embedded` (every node in one process) or `distributed` (decides the default store). */
  mode?: MasterMode | undefined;
  /** The master: starts the nodes rollingUpdateServers adds. */
  launcher?: NodeLauncher | null | undefined;
}

/** Makes the role part of a node and attaches it (see NodeOptions.role). */
export function roleFor(opts: RoleOptions): (host: NodeHost, attach: <T extends RolePart>(key: RoleKey<T>, part: T) => T) => void {
  return (host, attach) => {
    switch (host.role) {
      case 'master':
        attach(MASTER_ROLE, new MasterRole(host, { mode: opts.mode, launcher: opts.launcher }));
        return;
      case 'proxy':
        if (!opts.gateway) throw new GamewireError('ERR_NO_GATEWAY', `proxy ${host.serverId} needs a gateway (the transport players connect over)`);
        attach(PROXY_ROLE, new ProxyRole(host, opts.gateway, opts.devBareUidLogin ?? host.config.dev_bare_uid_login));
        return;
      case 'server':
        attach(SERVER_ROLE, new ServerRole(host));
        return;
      case 'service':
        attach(SERVICE_ROLE, new ServiceRole(host));
        return;
    }
  };
}
