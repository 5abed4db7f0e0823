/**
 * A small chat: every line a client sends is broadcast to every connected client.
 *
 *   node --import tsx examples/chat/server.ts [port]
 *   node --import tsx examples/chat/client.ts alice [port]     (in other terminals)
 */
import { writeFileSync } from 'node:fs';
import { EventHandler, PrivateKey, RetryMode, ServerContext, UdpServer, type ClientHandle } from 'gamewire';

class Chat extends EventHandler {
  /** Connected clients by token (the seed's advice for broadcasting). */
  private readonly clients = new Map<number, ClientHandle>();

  private broadcast(text: string) {
    const msg = Buffer.from(text);
    for (const c of this.clients.values()) c.send(msg, RetryMode.RETRY_ON_TIMEOUT);
  }
  override connect(client: ClientHandle) {
    this.clients.set(client.token, client);
    this.broadcast(`* ${client.token} joined (${this.clients.size} here)`);
  }
  override disconnect(client: ClientHandle) {
    this.clients.delete(client.token);
    this.broadcast(`* ${client.token} left`);
  }
  override handleMessage(client: ClientHandle, _seq: number, msg: Uint8Array) {
    this.broadcast(`${client.token}: ${Buffer.from(msg).toString().slice(0, 200)}`);
  }
}

const key = PrivateKey.generate();
writeFileSync(new URL('./root.pub.pem', import.meta.url), key.publicKey().toPem());
const server = new UdpServer(new ServerContext(new Chat(), key), { host: '127.0.0.1', port: Number(process.argv[2] ?? 7778) });
const addr = await server.listen();
console.log(`chat on udp://127.0.0.1:${addr.port}; Ctrl-C stops`);
await server.run();
