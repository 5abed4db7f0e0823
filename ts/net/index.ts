export { RetryMode, ConnectionStatus, type CloseReason } from './constants.js';
export { EventHandler } from './handler.js';
export { ServerContext, CONTEXT_DEFAULTS, type ServerContextOptions } from './context.js';
export { ClientHandle } from './client-handle.js';
export { UdpServer, type UdpServerOptions, type ServerMetrics, type TimeProfile } from './server.js';
export { UdpClient, type UdpClientOptions, type ConnectOptions, type UdpClientEvents } from './client.js';
export { PrivateKey, PublicKey } from './keys.js';
export type { NetOptions } from './config.js';
export type { ConnectionStats } from './stats.js';
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
} from './http.js';
export type { DashboardSource, SourceMetrics } from './metrics-source.js';
export { Dashboard, formatPrometheus, PROMETHEUS_CONTENT_TYPE, type DashboardOptions, type EnableDashboardOptions, type DashboardSample, type DashboardTotals, type DashboardInfo, type DashboardSnapshot, type DashboardUpdate, type MetricFamily, type MetricSample } from './dashboard/index.js';
