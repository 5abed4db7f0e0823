/**
 * HTTP(S) beside the game port (`UdpServer.listenTcp`). Routes live in a {@link Router} (a thin
 * wrapper over find-my-way, the router fastify uses); {@link listenHttp} serves one on
 * `{host, port}` with node:http or node:https, with timeouts and a connection cap.
 *
 * Every error answer, from the router itself or from a handler's {@link HttpError}, has one body
 * shape ({@link HttpErrorBody}):
 * `{ "error": { "status": 400, "code": "ERR_INVALID_ARG", "message": "...", "issues": [...] } }`.
 *
 * ```ts
 * const router = new Router();
 * router.get('/health', () => ({ ok: true }));                 // a returned value is sent as JSON
 * router.post('/echo/:room', async (req, res) => {
 *   res.status(201).json({ room: req.params.room, body: await req.json() });
 * });
 * await server.listenTcp(router, { host: '127.0.0.1', port: 8080 });
 * ```
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import FindMyWay from 'find-my-way';
import { ArgumentError, bindError, ConfigError, GamewireError, StateError, type ErrorCode } from '../errors.js';
import { componentLogger, type Logger } from '../log.js';

/** HTTP methods a route may be registered for. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

const METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * A route handler. It may be async. What it returns, if not `undefined` and nothing was sent yet,
 * is sent as JSON (status 200 unless `res.status()` set another). An exception or a rejected
 * Promise becomes a 500 response (or the {@link HttpError}'s status) and is logged; it never
 * crashes the server. A handler that returns `undefined` without responding keeps the response
 * open for itself (streaming, or answering later from a callback).
 */
export type RouteHandler = (req: HttpRequest, res: HttpResponse) => unknown;

/** Options of a {@link Router}. */
export interface RouterOptions {
  /** `/a/` matches the route `/a` (default true). */
  ignoreTrailingSlash?: boolean;
  /** `//a` matches `/a` (default false). */
  ignoreDuplicateSlashes?: boolean;
  /** Paths match case-sensitively (default true). */
  caseSensitive?: boolean;
  /** Longest accepted path parameter, in characters (default 100). */
  maxParamLength?: number;
  /** Largest request body `req.body()`/`text()`/`json()` accept, bytes (default 1 MiB); larger is a 413. */
  bodyLimit?: number;
  /** Logger for handler exceptions (default: the server's logger when served by `listenTcp`). */
  logger?: Logger;
}

/** One per-field problem of a refused request: `path` is the field (`room.name`, `players.0`). */
export interface HttpErrorIssue {
  path: string;
  message: string;
}

/**
 * The body of every HTTP error answer: the router's own (404, 405, 400, 413, 500) and a handler's
 * {@link HttpError}. `code` is a gamewire {@link ErrorCode}; `issues` only when there are per-field
 * problems.
 */
export interface HttpErrorBody {
  error: {
    status: number;
    code: ErrorCode;
    message: string;
    issues?: HttpErrorIssue[];
  };
}

/** Options of an {@link HttpError}. */
export interface HttpErrorOptions {
  /** Whether `message` (and `issues`) are shown to the client (default: true below 500, false from 500 up). */
  expose?: boolean;
  /** The body's `code` (default `ERR_HTTP`), e.g. `ERR_INVALID_ARG` for a refused field. */
  code?: ErrorCode;
  /** Per-field problems, sent as the body's `issues`. */
  issues?: readonly HttpErrorIssue[];
  cause?: unknown;
}

/**
 * An error a handler throws to answer with a given status: `throw new HttpError(403, 'not yours')`
 * answers `{"error": {"status": 403, "code": "ERR_HTTP", "message": "not yours"}}`.
 */
export class HttpError extends GamewireError {
  /** The HTTP status sent. */
  readonly status: number;
  /** Whether `message` and `issues` are shown to the client. */
  readonly expose: boolean;
  /** Per-field problems. */
  readonly issues: readonly HttpErrorIssue[] | undefined;
  constructor(status: number, message: string, opts: HttpErrorOptions = {}) {
    super(opts.code ?? 'ERR_HTTP', message, opts.cause === undefined ? undefined : { cause: opts.cause });
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new ArgumentError(`HttpError: status must be an HTTP error status (400..599), got ${status}`);
    this.status = status;
    this.expose = opts.expose ?? status < 500;
    this.issues = opts.issues === undefined ? undefined : [...opts.issues];
  }

  /** The body sent for this error (`internal server error` in place of an unexposed message). */
  toBody(): HttpErrorBody {
    if (!this.expose) return errorBody(this.status, 'ERR_HTTP', 'internal server error');
    return errorBody(this.status, this.code, this.message, this.issues);
  }
}

/** An {@link HttpErrorBody}. */
export function errorBody(status: number, code: ErrorCode, message: string, issues?: readonly HttpErrorIssue[]): HttpErrorBody {
  return { error: { status, code, message, ...(issues && issues.length > 0 ? { issues: [...issues] } : {}) } };
}

/**
 * What `req.json(schema)` validates with: anything with zod's `safeParse` (a zod schema, or your
 * own object of that shape).
 */
export interface BodySchema<T> {
  safeParse(value: unknown):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

/** The request a {@link RouteHandler} receives: node's `IncomingMessage` plus the route's match. */
export class HttpRequest {
  /** The underlying node:http request (a readable stream of the body). */
  readonly raw: IncomingMessage;
  /** `GET`, `POST`, ... */
  readonly method: string;
  /** The path and query string as received (`/rooms/7?full=1`). */
  readonly url: string;
  /** The path without the query string (`/rooms/7`). */
  readonly path: string;
  /** The route's parameters: `/rooms/:id` matched by `/rooms/7` gives `{ id: '7' }`. */
  readonly params: Readonly<Record<string, string>>;
  /**
   * The query string's parameters, one string each: `?full=1` gives `{ full: '1' }`, and a
   * repeated key gives its last value (`?a=1&a=2` gives `{ a: '2' }`; {@link queryAll} gives every
   * value). Decoded as `URLSearchParams` does (`+` is a space).
   */
  readonly query: Readonly<Record<string, string>>;
  private readonly search: URLSearchParams;
  private readonly bodyLimit: number;
  private bodyPromise: Promise<Buffer> | null = null;

  /** @internal */
  constructor(raw: IncomingMessage, params: Record<string, string | undefined>, bodyLimit: number) {
    this.raw = raw;
    this.method = raw.method ?? 'GET';
    this.url = raw.url ?? '/';
    const q = this.url.indexOf('?');
    this.path = q < 0 ? this.url : this.url.slice(0, q);
    const p: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined) p[k] = v;
    this.params = p;
    this.search = new URLSearchParams(q < 0 ? '' : this.url.slice(q + 1));
    // No prototype: a `__proto__` key is just a key.
    const query = Object.create(null) as Record<string, string>;
    for (const [k, v] of this.search) query[k] = v;
    this.query = query;
    this.bodyLimit = bodyLimit;
  }

  /** Every value of a query parameter, in order (`?a=1&a=2` gives `['1', '2']`; absent: `[]`). */
  queryAll(name: string): string[] {
    return this.search.getAll(name);
  }

  /** The request headers (lower-case names). */
  get headers(): IncomingHttpHeaders {
    return this.raw.headers;
  }

  /** One header's value (repeated headers joined with `, `), or undefined. */
  header(name: string): string | undefined {
    const v = this.raw.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  /** The peer's IP address. */
  get remoteAddress(): string | undefined {
    return this.raw.socket.remoteAddress;
  }

  /** The whole body (read once, then cached). Throws an {@link HttpError} 413 past the body limit. */
  body(): Promise<Buffer> {
    this.bodyPromise ??= readBody(this.raw, this.bodyLimit);
    return this.bodyPromise;
  }

  /** The body as UTF-8 text. */
  async text(): Promise<string> {
    return (await this.body()).toString('utf8');
  }

  /**
   * The body parsed as JSON; an empty or malformed body is an {@link HttpError} 400
   * (`ERR_INVALID_ARG`). With a `schema` (a zod schema), the value is also validated: a value it
   * refuses is a 400 whose `issues` name each field and its problem.
   */
  async json<T = unknown>(schema?: BodySchema<T>): Promise<T> {
    const text = await this.text();
    if (text.trim() === '') throw new HttpError(400, 'the request body is empty: JSON expected', { code: 'ERR_INVALID_ARG' });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, `the request body is not valid JSON: ${(err as Error).message}`, { code: 'ERR_INVALID_ARG' });
    }
    if (!schema) return value as T;
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    throw new HttpError(400, 'the request body is invalid', { code: 'ERR_INVALID_ARG', issues });
  }
}

/** The response a {@link RouteHandler} writes: chainable helpers over node's `ServerResponse`. */
export class HttpResponse {
  /** The underlying node:http response (write to it directly for streaming). */
  readonly raw: ServerResponse;

  /** @internal */
  constructor(raw: ServerResponse) {
    this.raw = raw;
  }

  /** True once the headers went out (a response was started). */
  get sent(): boolean {
    return this.raw.headersSent || this.raw.writableEnded;
  }

  /** Sets the status code. */
  status(code: number): this {
    this.raw.statusCode = code;
    return this;
  }

  /** Sets a header. */
  header(name: string, value: string | number | readonly string[]): this {
    this.raw.setHeader(name, value);
    return this;
  }

  /** Sends `value` as JSON (`application/json; charset=utf-8`). */
  json(value: unknown, status?: number): void {
    if (status !== undefined) this.raw.statusCode = status;
    this.send(JSON.stringify(value) ?? 'null', 'application/json; charset=utf-8');
  }

  /** Sends plain text. */
  text(body: string, status?: number): void {
    if (status !== undefined) this.raw.statusCode = status;
    this.send(body, 'text/plain; charset=utf-8');
  }

  /** Sends an HTML page. */
  html(body: string, status?: number): void {
    if (status !== undefined) this.raw.statusCode = status;
    this.send(body, 'text/html; charset=utf-8');
  }

  /** Sends a body with a content type (default `application/octet-stream`) and ends the response. */
  send(body: string | Uint8Array, contentType = 'application/octet-stream'): void {
    if (!this.raw.hasHeader('content-type')) this.raw.setHeader('content-type', contentType);
    this.raw.setHeader('content-length', typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    this.raw.end(body);
  }

  /** Ends the response without a body (default status 204). */
  end(status = 204): void {
    this.raw.statusCode = status;
    this.raw.end();
  }

  /** Sends an error in the one error body shape ({@link HttpErrorBody}). */
  error(status: number, code: ErrorCode, message: string, issues?: readonly HttpErrorIssue[]): void {
    this.json(errorBody(status, code, message, issues), status);
  }
}

/** The logger `handle` chose travels on the request to the route's handler. */
const LOGGER = Symbol('gamewire.httpLogger');
type LoggedRequest = IncomingMessage & { [LOGGER]?: Logger };

type FmwHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string | undefined>) => void;

/**
 * Routes for {@link listenHttp} / `UdpServer.listenTcp`. Paths are find-my-way patterns: static
 * (`/health`), parameters (`/rooms/:id`), wildcards (`/static/*`, the rest in `req.params['*']`),
 * regexps (`/n/:n(^\\d+$)`). A path no route matches gets a 404; a path that has routes, but not
 * for the request's method, gets a 405 with an `Allow` header listing the methods it has.
 */
export class Router {
  private readonly fmw: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
  private readonly bodyLimit: number;
  private readonly logger: Logger | undefined;
  private fallbackLogger: Logger | undefined;

  constructor(opts: RouterOptions = {}) {
    this.bodyLimit = opts.bodyLimit ?? 1024 * 1024;
    this.logger = opts.logger;
    this.fmw = FindMyWay({
      ignoreTrailingSlash: opts.ignoreTrailingSlash ?? true,
      ignoreDuplicateSlashes: opts.ignoreDuplicateSlashes ?? false,
      caseSensitive: opts.caseSensitive ?? true,
      maxParamLength: opts.maxParamLength ?? 100,
      // The query string is parsed by HttpRequest, which has its own contract for it.
      querystringParser: () => ({}),
      defaultRoute: (req, res) => this.noRoute(req, res),
      onBadUrl: (_path, _req, res) => sendError(res, 400, 'ERR_HTTP', 'bad URL'),
    });
  }

  /** Adds a route for one method or several. Registering the same method and path twice throws. */
  on(method: HttpMethod | readonly HttpMethod[], path: string, handler: RouteHandler): this {
    const methods = typeof method === 'string' ? [method] : [...method];
    for (const m of methods) if (!METHODS.includes(m)) throw new ConfigError('method', `unsupported HTTP method ${JSON.stringify(m)}`);
    if (typeof handler !== 'function') throw new ConfigError('handler', 'must be a function');
    const h: FmwHandler = (req, res, params) => this.run(handler, req, res, params);
    this.fmw.on(methods, path, h);
    return this;
  }

  /** Adds a GET route (HEAD requests to it are answered too, without a body). */
  get(path: string, handler: RouteHandler): this {
    this.on('GET', path, handler);
    if (!this.fmw.hasRoute('HEAD', path)) this.on('HEAD', path, handler);
    return this;
  }

  /** Adds a POST route. */
  post(path: string, handler: RouteHandler): this {
    return this.on('POST', path, handler);
  }

  /** Adds a PUT route. */
  put(path: string, handler: RouteHandler): this {
    return this.on('PUT', path, handler);
  }

  /** Adds a PATCH route. */
  patch(path: string, handler: RouteHandler): this {
    return this.on('PATCH', path, handler);
  }

  /** Adds a DELETE route. */
  delete(path: string, handler: RouteHandler): this {
    return this.on('DELETE', path, handler);
  }

  /** Adds a route for every method above (HEAD included) that has none on this path yet. */
  all(path: string, handler: RouteHandler): this {
    const free = METHODS.filter((m) => !this.fmw.hasRoute(m, path));
    if (free.length > 0) this.on(free, path, handler);
    return this;
  }

  /** Removes the routes of `method` on `path`. */
  off(method: HttpMethod | readonly HttpMethod[], path: string): this {
    this.fmw.off(typeof method === 'string' ? method : [...method], path);
    return this;
  }

  /** Whether a route is registered for exactly this method and path pattern. */
  hasRoute(method: HttpMethod, path: string): boolean {
    return this.fmw.hasRoute(method, path);
  }

  /** The route tree, for debugging. */
  toString(): string {
    return this.fmw.prettyPrint();
  }

  /**
   * Dispatches one request (a `(req, res)` listener for any node:http or node:https server).
   * `logger` receives handler exceptions unless the router was given its own.
   */
  handle(req: IncomingMessage, res: ServerResponse, logger?: Logger): void {
    const log = this.logger ?? logger ?? this.defaultLogger();
    (req as LoggedRequest)[LOGGER] = log;
    try {
      this.fmw.lookup(req, res);
    } catch (err) {
      this.fail(err, req, res, log);
    }
  }

  private defaultLogger(): Logger {
    this.fallbackLogger ??= componentLogger(undefined, 'http');
    return this.fallbackLogger;
  }

  /** No route for this method and path: 405 if the path has routes for other methods, else 404. */
  private noRoute(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const allowed = METHODS.filter((m) => this.fmw.find(m, url) !== null);
    if (allowed.length === 0) {
      sendError(res, 404, 'ERR_HTTP', 'not found');
      return;
    }
    res.setHeader('allow', allowed.join(', '));
    sendError(res, 405, 'ERR_HTTP', `method ${String(req.method)} is not allowed here (allowed: ${allowed.join(', ')})`);
  }

  private run(handler: RouteHandler, req: IncomingMessage, res: ServerResponse, params: Record<string, string | undefined>): void {
    const logger = (req as LoggedRequest)[LOGGER] ?? this.logger ?? this.defaultLogger();
    const request = new HttpRequest(req, params, this.bodyLimit);
    const response = new HttpResponse(res);
    let result: unknown;
    try {
      result = handler(request, response);
    } catch (err) {
      this.fail(err, req, res, logger);
      return;
    }
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        (value) => finish(value, response),
        (err: unknown) => this.fail(err, req, res, logger),
      );
    } else {
      finish(result, response);
    }
  }

  private fail(err: unknown, req: IncomingMessage, res: ServerResponse, logger: Logger): void {
    if (err instanceof HttpError && err.status < 500) {
      logger.debug({ status: err.status, method: req.method, url: req.url, reason: err.message }, 'HTTP request refused');
    } else {
      logger.error({ err, method: req.method, url: req.url }, 'exception in HTTP handler');
    }
    if (res.headersSent || res.writableEnded) {
      // Too late to report: cut the response short so the client sees it failed.
      res.destroy();
      return;
    }
    if (err instanceof HttpError) writeError(res, err.status, err.toBody());
    else sendError(res, 500, 'ERR_HTTP', 'internal server error');
  }
}

function finish(value: unknown, res: HttpResponse): void {
  if (value !== undefined && !res.sent) res.json(value);
}

function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  writeError(res, status, errorBody(status, code, message));
}

function writeError(res: ServerResponse, status: number, error: HttpErrorBody): void {
  if (res.headersSent || res.writableEnded) return;
  const body = JSON.stringify(error);
  // The request body may be unread (a 404 to a POST): close rather than reuse the connection.
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(res.req.complete ? {} : { connection: 'close' }),
  });
  res.end(body);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, `the request body is larger than ${limit} bytes`, { code: 'ERR_MESSAGE_TOO_LARGE' }));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(new HttpError(413, `the request body is larger than ${limit} bytes`, { code: 'ERR_MESSAGE_TOO_LARGE' }));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new HttpError(400, `reading the request body failed: ${err.message}`, { code: 'ERR_INVALID_ARG', cause: err }));
    };
    const onAborted = () => onError(new Error('the client aborted the request'));
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

// ---- serving --------------------------------------------------------------------------------

/** Where to listen: `host` '::' binds IPv6 (dual-stack), port 0 picks a free port. */
export interface HttpAddress {
  host: string;
  port: number;
}

/**
 * TLS for HTTPS. Each of `key` and `cert` is PEM text (a string
 * containing `-----BEGIN`, or a Buffer) or the path of a PEM file; `cert` may be a full chain.
 */
export interface TlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
}

/**
 * The limits of an HTTP server ({@link listenHttp}, the dashboard's port): how long a client may
 * take to send a request, how long an idle connection is kept, how many connections are open at
 * once. A connection past a limit is closed by the server; none of them bounds how long a response
 * takes (the dashboard's live feed stays open).
 */
export interface HttpLimits {
  /** Milliseconds a client has to send a request's headers (default 10 000); then it gets a 408 and is closed. */
  headersTimeoutMs?: number;
  /** Milliseconds a client has to send a whole request, body included (default 30 000; at least `headersTimeoutMs`). */
  requestTimeoutMs?: number;
  /** Milliseconds an idle keep-alive connection is kept between requests (default 5000). */
  keepAliveTimeoutMs?: number;
  /** Connections open at once (default 1024); a connection beyond it is closed as soon as it is accepted. */
  maxConnections?: number;
  /**
   * On `close()`, milliseconds to let requests in progress finish before their connections are
   * cut (default 1000). Idle keep-alive connections close at once.
   */
  closeGraceMs?: number;
}

/** The defaults of {@link HttpLimits}. */
export const HTTP_LIMIT_DEFAULTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5000,
  maxConnections: 1024,
  closeGraceMs: 1000,
} as const satisfies Required<HttpLimits>;

/** Options of {@link listenHttp}. */
export interface ListenHttpOptions extends HttpLimits {
  /** Serve HTTPS with this key and certificate (default: plain HTTP). */
  tls?: TlsOptions;
  /** Logger for handler exceptions and server errors (default: gamewire's default logger); lines carry `component: "http"`. */
  logger?: Logger;
}

/** A running HTTP(S) server from {@link listenHttp}. */
export interface HttpListener {
  /** The bound address. */
  readonly address: AddressInfo;
  /** `http://127.0.0.1:8080` style base URL (a wildcard host shown as loopback). */
  readonly url: string;
  /** True for HTTPS. */
  readonly secure: boolean;
  /** The node:http or node:https server. */
  readonly server: Server;
  /** Stops accepting, lets requests in progress finish (up to the grace period), then resolves. */
  close(): Promise<void>;
}

function pem(value: string | Buffer, field: string): string | Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, 'must be PEM text or the path of a PEM file');
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value);
  } catch (err) {
    throw new ConfigError(field, `cannot read ${JSON.stringify(value)}: ${(err as Error).message}`, { cause: err });
  }
}

/** The limits with their defaults, each checked (a `ConfigError` names a bad one). */
function limits(opts: HttpLimits): Required<HttpLimits> {
  const out = { ...HTTP_LIMIT_DEFAULTS } as Required<HttpLimits>;
  for (const key of Object.keys(HTTP_LIMIT_DEFAULTS) as (keyof HttpLimits)[]) {
    const v = opts[key];
    if (v === undefined) continue;
    const min = key === 'closeGraceMs' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ConfigError(key, `must be an integer of at least ${min}, got ${JSON.stringify(v)}`);
    out[key] = v;
  }
  if (out.requestTimeoutMs < out.headersTimeoutMs) {
    throw new ConfigError('requestTimeoutMs', `must be at least headersTimeoutMs (${out.headersTimeoutMs}), got ${out.requestTimeoutMs}`);
  }
  return out;
}

function checkAddress(addr: HttpAddress): void {
  if (!addr || typeof addr.host !== 'string') throw new ConfigError('addr.host', 'must be a host string such as "127.0.0.1" or "::"');
  if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > 65535) {
    throw new ConfigError('addr.port', `must be a port number from 0 to 65535, got ${JSON.stringify(addr.port)}`);
  }
}

/**
 * Serves `router` over HTTP, or HTTPS when `opts.tls` is given, on `addr`, within the
 * {@link HttpLimits} of `opts`. Resolves once bound; rejects if binding fails (a `NetworkError`,
 * e.g. `EADDRINUSE`). `UdpServer.listenTcp` calls this and closes the listener when the game
 * server stops.
 */
export async function listenHttp(router: Router, addr: HttpAddress, opts: ListenHttpOptions = {}): Promise<HttpListener> {
  if (!(router instanceof Router)) throw new ConfigError('router', 'must be a gamewire Router');
  checkAddress(addr);
  const lim = limits(opts);
  const logger = componentLogger(opts.logger, 'http');
  const secure = opts.tls !== undefined;
  const listener = (req: IncomingMessage, res: ServerResponse) => router.handle(req, res, logger);
  const timing = {
    headersTimeout: lim.headersTimeoutMs,
    requestTimeout: lim.requestTimeoutMs,
    keepAliveTimeout: lim.keepAliveTimeoutMs,
    // How often node checks the two request timeouts (its default, 30 s, would stretch them).
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(lim.headersTimeoutMs / 4))),
  };
  const server: Server = secure
    ? createHttpsServer(
        {
          key: pem(opts.tls!.key, 'tls.key'),
          cert: pem(opts.tls!.cert, 'tls.cert'),
          passphrase: opts.tls!.passphrase,
          // A TLS handshake gets no longer than the request headers.
          handshakeTimeout: lim.headersTimeoutMs,
          ...timing,
        },
        listener,
      )
    : createHttpServer(timing, listener);
  server.maxConnections = lim.maxConnections;
  server.on('drop', (data?: { remoteAddress?: string }) =>
    logger.warn({ remote: data?.remoteAddress, maxConnections: lim.maxConnections }, 'HTTP connection refused: too many open connections'),
  );
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', (err: Error) => logger.debug({ err }, 'TLS handshake failed'));
  await new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) => reject(bindError(err, addr.host, addr.port));
    server.once('error', fail);
    server.listen({ host: addr.host, port: addr.port }, () => {
      server.off('error', fail);
      resolve();
    });
  });
  server.on('error', (err) => logger.warn({ err }, 'HTTP server error'));
  const address = server.address() as AddressInfo;
  const shown = address.address === '::' ? '::1' : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  const url = `${secure ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`;
  logger.info({ url }, 'HTTP listening');
  let closing: Promise<void> | null = null;
  const grace = lim.closeGraceMs;
  return {
    address,
    url,
    secure,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.closeAllConnections();
          for (const s of sockets) s.destroy();
        }, grace);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          logger.debug({ url }, 'HTTP closed');
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/**
 * What a game server closes when it stops: the listeners of `listenTcp` and `enableDashboard`.
 * Used by `UdpServer`; not needed by applications.
 */
export class HttpServices {
  private readonly open = new Set<{ close(): Promise<void> }>();

  /** @param closed true once the owner stopped (no service may start then). */
  constructor(private readonly closed: () => boolean) {}

  /** Starts a service and keeps it for {@link closeAll}; if the owner stopped meanwhile, closes it and throws. */
  async add<T extends { close(): Promise<void> }>(start: () => Promise<T>): Promise<T> {
    if (this.closed()) throw new StateError('cannot serve HTTP: the server is stopping or stopped');
    const service = await start();
    if (this.closed()) {
      await service.close();
      throw new StateError('cannot serve HTTP: the server stopped while it was starting');
    }
    this.open.add(service);
    return service;
  }

  /** Closes every service (errors are swallowed: they are closing anyway). */
  async closeAll(): Promise<void> {
    const all = [...this.open];
    this.open.clear();
    await Promise.all(all.map((s) => s.close().catch(() => undefined)));
  }
}
