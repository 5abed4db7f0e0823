/** A tiny static file server for browser tests: `/pkg/…` from a folder, `/` a blank module page. */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.html': 'text/html',
};

export interface StaticServer {
  url: string;
  /** Paths requested, in order. */
  requested: string[];
  close(): Promise<void>;
}

/** Serves `root` under `/pkg/`; `/` is an HTML page that runs `pageScript` as a module. */
export async function serveStatic(root: string, pageScript: string): Promise<StaticServer> {
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    requested.push(path);
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><meta charset="utf-8"><title>gamewire test</title><script type="module">${pageScript}</script>`);
      return;
    }
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    if (!path.startsWith('/pkg/')) return void res.writeHead(404).end();
    const file = normalize(join(root, path.slice(5)));
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requested,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
