/**
 * A chat room shared by browser players (WebTransport, or a WebSocket where WebTransport does not
 * open) and Node players (UDP): one UdpServer, one EventHandler, three transports.
 *
 *   node --import tsx examples/browser-chat/server.ts [httpPort] [udpPort] [webtransportPort]
 *   open http://127.0.0.1:8080/              (any number of tabs)
 *   node --import tsx examples/browser-chat/bot.ts robot [udpPort] [httpPort]
 *
 * The HTTP router serves the page, the browser entry (gamewire/browser, no bundler) and
 * `/gamewire/info` (where to connect, the root public key to pin, the WebTransport certificate's
 * hash, read at each request: a self-signed certificate is renewed while the server runs); the
 * WebSocket is mounted on the same port at `/gamewire`. Port 0 picks a free port.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventHandler, PrivateKey, RetryMode, Router, ServerContext, UdpServer, type ClientHandle } from 'gamewire';

const [httpPort = '8080', udpPort = '7780', wtPort = '4433'] = process.argv.slice(2);

class Chat extends EventHandler {
  private readonly clients = new Map<number, ClientHandle>();

  private broadcast(text: string) {
    const msg = new TextEncoder().encode(text);
    for (const c of this.clients.values()) c.send(msg, RetryMode.RETRY_ON_TIMEOUT);
  }
  override connect(client: ClientHandle) {
    this.clients.set(client.token, client);
    this.broadcast(`* ${client.token} joined over ${client.transport} (${this.clients.size} here)`);
  }
  override disconnect(client: ClientHandle) {
    this.clients.delete(client.token);
    this.broadcast(`* ${client.token} left`);
  }
  override handleMessage(client: ClientHandle, _seq: number, msg: Uint8Array) {
    this.broadcast(`${client.token}: ${new TextDecoder().decode(msg).slice(0, 200)}`);
  }
}

const key = PrivateKey.generate();
const server = new UdpServer(new ServerContext(new Chat(), key), { host: '127.0.0.1', port: Number(udpPort) }, {
  // Without `port` the WebSocket is mounted on the router's port (listenTcp below) at this path.
  websocket: { path: '/gamewire' },
  // A self-signed certificate (valid 13 days, renewed by the server) unless `cert` is given.
  webtransport: { port: Number(wtPort), host: '127.0.0.1' },
});

// The browser entry: gamewire/browser as installed (dist/browser of the package).
const require = createRequire(import.meta.url);
const browserDir = join(dirname(require.resolve('gamewire/package.json')), 'dist', 'browser');
const publicDir = fileURLToPath(new URL('./public/', import.meta.url));
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.css': 'text/css' };

async function serveFile(root: string, rel: string, res: import('gamewire').HttpResponse) {
  const file = normalize(join(root, rel));
  if (!file.startsWith(root)) return res.text('forbidden', 403);
  try {
    res.send(await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
  } catch {
    res.text('not found', 404);
  }
}

const router = new Router()
  .get('/', (_req, res) => serveFile(publicDir, 'index.html', res))
  .get('/app.js', (_req, res) => serveFile(publicDir, 'app.js', res))
  .get('/pkg/*', (req, res) => serveFile(browserDir, req.params['*'] ?? '', res))
  .get('/gamewire/info', (req, res) => {
    const host = (req.headers.host ?? `127.0.0.1:${httpPort}`).replace(/:\d+$/, '');
    res.json({
      rootPublicKey: key.publicKey().toPem(),
      webtransport: { url: `https://${host}:${server.webtransport!.port}/gamewire`, certificateHash: server.webtransport!.certificateHash },
      websocket: { url: `ws://${req.headers.host}/gamewire` },
    });
  });

await server.listen();
const http = await server.listenTcp(router, { host: '127.0.0.1', port: Number(httpPort) });
console.log(`chat: open http://127.0.0.1:${http.port}/ ; UDP players on port ${server.address.port}; Ctrl-C stops`);
console.log(`webtransport ${server.webtransport!.url} sha-256 ${server.webtransport!.certificateHash}`);
await server.run();
