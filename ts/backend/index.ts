export { loadBackend, loadBackendFile, probeBackends, resolveBackendChoice, backendPath, nativeTriple, packageRoot } from './loader.js';
export type { BackendOptions, BackendAvailability } from './loader.js';
export { bindingError, viaBinding } from './errors.js';
export type { Backend, BackendChoice, BackendName, Binding, Engine, EngineLayout, KeyOps, SeqOps, ThreadedServer, ThreadedServerOptions, ThreadProfile, WireHeader } from './types.js';
export { ReceiveBatch, SendBatcher, type SendRefused } from './batch.js';
