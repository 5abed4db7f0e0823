/** The dashboard (mpgameserver's GuiServer as a web page) and its Prometheus `/metrics`. */
export {
  Dashboard,
  type DashboardOptions,
  type EnableDashboardOptions,
  type DashboardSample,
  type DashboardTotals,
  type DashboardInfo,
  type DashboardSnapshot,
  type DashboardUpdate,
} from './dashboard.js';
export { formatPrometheus, PROMETHEUS_CONTENT_TYPE, type MetricFamily, type MetricSample } from './prometheus.js';
