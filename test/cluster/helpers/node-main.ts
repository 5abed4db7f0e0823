/**
 * Child-process entry for the cross-process tests: `gamewire node` / `gamewire cluster` (the CLI
 * functions of ts/cluster/cli.ts) with the TCP test gateway, since the UDP one is not built yet.
 *
 *   node --import tsx test/cluster/helpers/node-main.ts node --config c.json --server-id 4000 --load mod.ts
 *   node --import tsx test/cluster/helpers/node-main.ts cluster --config c.json --load mod.ts
 */
import { clusterCommand, nodeCommand } from '../../../ts/cluster/index.js';
import { createTcpGateway } from './tcp-gateway.js';

const [command, ...argv] = process.argv.slice(2);
const cluster = { gateway: createTcpGateway(), heartbeatInterval: 0.2, nodeTimeout: 3, opTimeout: 3 };
const code = command === 'cluster' ? await clusterCommand(argv, { cluster }) : await nodeCommand(argv, { cluster });
process.exit(code);
