/**
 * A chat client: lines typed on stdin go to the server; everything broadcast is printed.
 *
 *   node --import tsx examples/chat/client.ts <name> [port]
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { UdpClient } from 'gamewire';

const [name = 'guest', port = '7778'] = process.argv.slice(2);
const client = new UdpClient({ rootPublicKey: readFileSync(new URL('./root.pub.pem', import.meta.url), 'utf8') });
client.on('message', (_seq, msg) => console.log(Buffer.from(msg).toString()));
client.on('disconnected', (status) => {
  console.log(`disconnected (status ${status})`);
  process.exit(0);
});
await client.connect('127.0.0.1', Number(port));
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => client.sendGuaranteed(Buffer.from(`[${name}] ${line}`)));
rl.on('close', () => void client.disconnect().then(() => process.exit(0)));
