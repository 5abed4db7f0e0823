/**
 * gamewire/cluster: the multi-server cluster layer. Master, proxy, lobby/game and service nodes;
 * mods and systems; events and RPC between nodes over an in-process bus or NATS; the player
 * protocol and the game client. An explicit export list: what is not here is not public.
 */

// Running a cluster
export { Cluster, type ClusterOptions, type MasterApi } from './cluster.js';
export {
  parseConfig,
  loadConfigFile,
  defaultDataDir,
  defaultStorePath,
  findNode,
  type ClusterConfig,
  type MasterEntry,
  type ServerEntry,
  type ServiceEntry,
  type NodeEntry,
  type NodeRole,
  type StoreType,
} from './cluster-config.js';
export { defineMod, getMod, definedMods, checkMods, type ModDefinition, type ModSystems, type SystemEntry, type SystemClass } from './mods.js';

// The node core
export { ClusterNode, type NodeOptions, type NodeStats, type NodeTiming, type RpcHandler } from './core/node.js';
export { MasterLink } from './core/master-link.js';
export { monotonicClock, systemClock, type Clock, type ClockTimer } from '../clock.js';
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
  type ResetGamesEventData,
} from './core/events.js';
export { DEFAULT_RPC_TIMEOUT, type RpcCallback, type RpcResult, type RpcStats } from './core/rpc.js';
export type { LoginAnswer } from './core/bus-messages.js';

// Systems, per role
export { System } from './core/system.js';
export { NodeSystem } from './core/node-system.js';
export { MasterSystem } from './master/master-system.js';
export { ServerSystem, type TransferResult } from './server/server-system.js';
export type { ServerPlayer } from './server/server-role.js';
export { ServiceSystem } from './service/service-system.js';
export type { ServiceHttpHandler } from './service/service-role.js';
export { ClientSystem } from './player/client-system.js';

// The master's API
export { NetgameApi, ServerManager, MasterHttpApi, type SanctionInfoCallback, type ServiceHttpResult } from './master/master-api.js';
export type { LoginStrategy } from './master/master-context.js';
export type { MasterMode } from './master/master-role.js';
export { ServerStatus, type ServerStatusCode, type OnlinePlayer } from './master/registry.js';
export { banLoginText, type SanctionInfo, type SanctionInfoResult } from './master/sanctions.js';
export { storeKind } from './master/store/open-store.js';
export type { MasterStore, SanctionKind, SanctionRecord } from './master/store/store.js';
export type { MasterHttpHandler, MasterHttpRequest, MasterHttpStats } from './master/master-http.js';
export type { NodeLauncher, LifecycleOptions, RollingCloseOptions, RollingUpdateOptions, RollingUpdateResult } from './master/lifecycle.js';
export { createProcessLauncher, type ProcessLauncherOptions } from './master/node-launcher.js';
export { MASTER_LIMITS } from './master/limits.js';

// Players: the client, connect tokens, the protocol
export { GameClient, LoginRefusedError, type GameClientOptions, type GameClientSettings, type GameClientTransport, type LoginInfo } from './player/game-client.js';
export { createConnectToken, verifyConnectToken, type ConnectTokenClaims, type TokenCheck, type TokenRefusal } from './player/connect-token.js';
export { PLAYER_PROTOCOL_VERSION, MAX_ENVELOPE_BYTES } from './player/envelope.js';

// Transports
export type { Bus, BusConnection, BusStatus, BusSubscription } from './transport/bus/bus.js';
export { Subjects } from './transport/bus/bus.js';
export { InProcessBus, InProcessConnection } from './transport/bus/inprocess-bus.js';
export { NatsBus, type NatsBusOptions } from './transport/bus/nats-bus.js';
export type { Gateway, GatewayAddress, GatewayHandler, GatewayListener, GatewayListenOptions, PlayerConnection, ProxyLink } from './transport/gateway/gateway.js';
export { createUdpGateway, createGateway, type UdpGateway, type UdpGatewayOptions } from './transport/gateway/udp-gateway.js';

// Errors
export { ArgumentError, ConfigError, GamewireError, MissingDependencyError, StateError, TimeoutError } from '../errors.js';
