/**
 * Child-process entry for the cross-process tests: `gamewire node` / `gamewire cluster` (the CLI's
 * own commands) with the TCP test gateway and fast timings.
 *
 *   node --import tsx test/cluster/helpers/node-main.ts node --config c.json --server-id 4000 --load mod.ts
 *   node --import tsx test/cluster/helpers/node-main.ts cluster --config c.json --load mod.ts
 */
import { clusterCommands } from '../../../ts/cli/cluster-commands.js';
import { createTcpGateway } from './tcp-gateway.js';

const [command, ...argv] = process.argv.slice(2);
const commands = clusterCommands({ cluster: { gateway: createTcpGateway(), heartbeatInterval: 0.2, nodeTimeout: 3, opTimeout: 3 } });
const code = await (command === 'cluster' ? commands.cluster : commands.node).main(argv);
process.exit(code);
