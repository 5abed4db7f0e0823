/**
 * A Node player in the browser chat: joins over UDP; lines typed on stdin go to the room; every
 * line of the room is printed.
 *
 *   node --import tsx examples/browser-chat/bot.ts <name> [udpPort] [httpPort]
 *
 * The root public key comes from the server's `/gamewire/info` (as the page gets it).
 */
import { createInterface } from 'node:readline';
import { UdpClient } from 'gamewire';

const [name = 'robot', udpPort = '7780', httpPort = '8080'] = process.argv.slice(2);
const info = (await (await fetch(`http://127.0.0.1:${httpPort}/gamewire/info`)).json()) as { rootPublicKey: string };
const client = new UdpClient({ rootPublicKey: info.rootPublicKey });
client.on('message', (_seq, msg) => console.log(new TextDecoder().decode(msg)));
client.on('disconnected', (status) => {
  console.log(`disconnected (status ${status})`);
  process.exit(0);
});
await client.connect('127.0.0.1', Number(udpPort));
console.log(`joined as ${client.token}`);
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => client.sendGuaranteed(new TextEncoder().encode(`[${name}] ${line}`)));
rl.on('close', () => void client.disconnect().then(() => process.exit(0)));
