/**
 * gamewire: the network layer. `import { UdpServer, UdpClient, ... } from 'gamewire'`.
 * The cluster layer is `gamewire/cluster`.
 */
export * from './backend/index.js';
export * from './errors.js';
export { VERSION } from './version.js';
export * from './net/index.js';
