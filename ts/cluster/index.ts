/**
 * gamewire/cluster: the multi-server cluster layer (api.md §2). Master, proxy, lobby/game and
 * service nodes; mods and systems; events and RPC between nodes over an in-process bus or NATS.
 */
export { Cluster, type ClusterOptions } from './cluster.js';
export { ClusterNode, MasterLink, type NodeOptions, type NodeStats, type NodeTiming, type RpcHandler } from './node.js';
export {
  parseConfig,
  loadConfigFile,
  defaultDataDir,
  defaultStorePath,
  checkMods,
  findNode,
  type ClusterConfig,
  type MasterEntry,
  type ServerEntry,
  type ServiceEntry,
  type NodeEntry,
  type NodeRole,
  type StoreType,
} from './config.js';
export { defineMod, getMod, definedMods, type ModDefinition, type ModSystems, type SystemEntry, type SystemClass } from './mod.js';
export {
  ENGINE_NAMESPACE,
  ENGINE_SYSTEM_NAME,
  EngineEvents,
  getEngineNamespace,
  getEngineSystemName,
  type EventData,
  type EventListener,
  type MasterConnectStatusEventData,
  type AddServerPlayerEventData,
  type DelServerPlayerEventData,
  type ServerConnectEventData,
  type ServerDisconnectEventData,
  type LoginResultEventData,
  type ClientTransferEventData,
  type ClientDisconnectEventData,
} from './events.js';
export { System } from './systems/system.js';
export { NodeSystem } from './systems/node-system.js';
export { MasterSystem } from './systems/master.js';
export { ServerSystem, type TransferResult } from './systems/server.js';
export { ServiceSystem } from './systems/service.js';
export { ClientSystem } from './systems/client.js';
export { GameClient, LoginRefusedError, type GameClientOptions, type GameClientSettings, type GameClientTransport, type LoginInfo } from './client.js';
export { createUdpGateway, createGateway, type UdpGateway, type UdpGatewayOptions } from './gateway-udp.js';
export { DEFAULT_RPC_TIMEOUT, type RpcCallback, type RpcResult, type RpcStats } from './rpc.js';
export { createConnectToken, verifyConnectToken, type ConnectTokenClaims, type TokenCheck, type TokenRefusal } from './token.js';
export type { Gateway, GatewayAddress, GatewayHandler, GatewayListener, PlayerConnection, ProxyLink } from './gateway.js';
export { PLAYER_PROTOCOL_VERSION, MAX_ENVELOPE_BYTES } from './protocol.js';
export type { Bus, BusConnection, BusStatus, BusSubscription } from './bus/bus.js';
export { Subjects } from './bus/bus.js';
export { InProcessBus, InProcessConnection } from './bus/inprocess.js';
export { NatsBus, type NatsBusOptions } from './bus/nats.js';
export { NetgameApi, ServerManager, MasterHttpApi, type SanctionInfoCallback, type ServiceHttpResult } from './master/api.js';
export { ServerStatus, type ServerStatusCode, type OnlinePlayer } from './master/registry.js';
export type { LoginStrategy, LoginAnswer, MasterMode } from './master/core.js';
export { banLoginText, type SanctionInfo, type SanctionInfoResult } from './master/sanctions.js';
export { storeKind, type MasterStore, type SanctionKind, type SanctionRecord } from './master/store.js';
export type { MasterHttpHandler, MasterHttpRequest, MasterHttpStats } from './master/http.js';
export type { NodeLauncher, LifecycleOptions, RollingCloseOptions, RollingUpdateOptions, RollingUpdateResult } from './master/lifecycle.js';
export { createProcessLauncher, type ProcessLauncherOptions } from './launcher.js';
export type { ServiceHttpHandler } from './service-http.js';
export type { ResetGamesEventData } from './events.js';
export type { ServerPlayer } from './players.js';
export { clusterCommand, nodeCommand, CLUSTER_USAGE, type CommandOptions } from './cli.js';
export { MASTER_LIMITS } from './master/limits.js';
export { ArgumentError, ConfigError, GamewireError, TimeoutError } from '../errors.js';
