/**
 * An echo server: every message goes back to its sender, guaranteed.
 *
 *   node --import tsx examples/echo/server.ts [port]
 *
 * Prints the root public key clients must pin (examples/echo/client.ts reads it from root.pub.pem).
 */
import { writeFileSync } from 'node:fs';
import { EventHandler, PrivateKey, RetryMode, ServerContext, UdpServer, type ClientHandle } from 'gamewire';

class Echo extends EventHandler {
  override connect(client: ClientHandle) {
    client.log.info('hello');
  }
  override handleMessage(client: ClientHandle, _seq: number, msg: Uint8Array) {
    client.send(msg, RetryMode.RETRY_ON_TIMEOUT);
  }
}

const key = PrivateKey.generate();
writeFileSync(new URL('./root.pub.pem', import.meta.url), key.publicKey().toPem());
const server = new UdpServer(new ServerContext(new Echo(), key), { host: '127.0.0.1', port: Number(process.argv[2] ?? 7777) });
const addr = await server.listen();
console.log(`echo on udp://127.0.0.1:${addr.port} (backend ${server.backend}); Ctrl-C stops`);
await server.run();
