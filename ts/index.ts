/**
 * gamewire: the network layer. `import { UdpServer, UdpClient, ... } from 'gamewire'`.
 * The cluster layer is `gamewire/cluster`. This is the whole public API: an explicit list.
 */
export { loadBackend, probeBackends, resolveBackendChoice, type BackendOptions, type BackendAvailability } from './backend/loader.js';
export type { Backend, BackendChoice, BackendName, Engine, EngineLayout, KeyOps, SeqOps, WireHeader } from './backend/types.js';
export {
  ERROR_CODES,
  GamewireError,
  ArgumentError,
  BackendLoadError,
  ConfigError,
  DecodeError,
  MissingDependencyError,
  NetworkError,
  StateError,
  TimeoutError,
  type ErrorCode,
} from './errors.js';
export { componentLogger, createLogger, defaultLogger, envLogLevel, LOG_LEVELS, type CreateLoggerOptions, type LogFn, type Logger, type LogLevel } from './log.js';
export { VERSION } from './version.js';
export { monotonicClock, systemClock, type Clock, type ClockTimer } from './clock.js';
export { RetryMode, ConnectionStatus, type CloseReason } from './net/constants.js';
export { EventHandler } from './net/handler.js';
export { ServerContext, CONTEXT_DEFAULTS, type ServerContextOptions } from './net/context.js';
export { ClientHandle } from './net/client-handle.js';
export { UdpServer, type UdpServerOptions, type ServerMetrics } from './net/server.js';
export { UdpClient, type UdpClientOptions, type ConnectOptions, type UdpClientEvents } from './net/client.js';
export { PrivateKey, PublicKey } from './net/keys.js';
export type { NetOptions } from './net/config.js';
export type { ConnectionStats } from './net/stats.js';
export {
  Router,
  HttpRequest,
  HttpResponse,
  HttpError,
  errorBody,
  listenHttp,
  HTTP_LIMIT_DEFAULTS,
  type RouteHandler,
  type RouterOptions,
  type HttpMethod,
  type HttpAddress,
  type TlsOptions,
  type HttpLimits,
  type ListenHttpOptions,
  type HttpListener,
  type HttpErrorBody,
  type HttpErrorIssue,
  type HttpErrorOptions,
  type BodySchema,
} from './net/http.js';
export type { DashboardSource, SourceMetrics, TimeProfile } from './net/metrics-source.js';
export {
  Dashboard,
  type DashboardOptions,
  type EnableDashboardOptions,
  type DashboardSample,
  type DashboardTotals,
  type DashboardInfo,
  type DashboardSnapshot,
  type DashboardUpdate,
} from './net/dashboard/dashboard.js';
export { formatPrometheus, PROMETHEUS_CONTENT_TYPE, type MetricFamily, type MetricSample } from './net/dashboard/prometheus.js';
