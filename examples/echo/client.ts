/**
 * Sends a few messages to the echo server and prints the echoes.
 *
 *   node --import tsx examples/echo/client.ts [port]
 */
import { readFileSync } from 'node:fs';
import { UdpClient } from 'gamewire';

const client = new UdpClient({ rootPublicKey: readFileSync(new URL('./root.pub.pem', import.meta.url), 'utf8') });
client.on('message', (seq, msg) => console.log(`echo #${seq}: ${Buffer.from(msg)}`));
await client.connect('127.0.0.1', Number(process.argv[2] ?? 7777));
console.log(`connected, token ${client.token}`);
for (let i = 0; i < 3; i++) client.sendGuaranteed(Buffer.from(`hello ${i}`), (ok) => console.log(`message ${i} ${ok ? 'acked' : 'lost'}`));
await new Promise((r) => setTimeout(r, 500));
console.log(`latency ${(client.latency * 1000).toFixed(1)} ms`);
await client.disconnect();
