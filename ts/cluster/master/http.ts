/**
 * The master's HTTP server (seed 000 `masterHttp`): a real node:http server on the master's
 * configured address (`master.ip`, default 127.0.0.1; `master.port`, 0 picks a free port; no port:
 * no server), serving the routes handlers registered with `registerMasterHttp(url, handler)` and
 * gamewire's admin routes (`/admin/...`, admin.ts).
 *
 * - **Closed by default.** Every request must carry the shared secret of the config
 *   (`master.http_secret`, else the environment variable `GAMEWIRE_MASTER_HTTP_SECRET`) as
 *   `Authorization: Bearer <secret>`; without it (or when no secret is configured) the answer is
 *   401 and no handler runs. The comparison takes constant time.
 * - A handler gets `(clientId, requestBody, request)`: a unique id, the body as text (a non-empty
 *   body must be JSON: otherwise 400 and no handler runs), and the method, path and query. It
 *   answers with `sendHttpResponse(clientId, message)` at any time (asynchronously too).
 * - A request not answered within `master.http_timeout` seconds (default 10) gets 504; an answer
 *   after that is dropped, logged and counted (`stats.late`). A handler that throws: 500.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { GamewireError } from '../../errors.js';
import { HttpError, listenHttp, Router, type HttpListener, type HttpRequest, type HttpResponse } from '../../net/http.js';

/** What a handler learns about the request besides its body. */
export interface MasterHttpRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: Readonly<Record<string, string>>;
  remoteAddress: string | undefined;
}

/** A registered handler (seed: `func(clientId, requestBody)`); answer with `sendHttpResponse`. */
export type MasterHttpHandler = (clientId: number, requestBody: string, request: MasterHttpRequest) => unknown;

/** A built-in route: gets the parsed JSON body (or the query for GET) and returns status and JSON. */
export type BuiltinRoute = (input: Record<string, unknown>, request: MasterHttpRequest) => Promise<{ status: number; body: unknown }> | { status: number; body: unknown };

export interface MasterHttpOptions {
  host: string;
  /** null: no HTTP server. */
  port: number | null;
  /** null: every request gets 401. */
  secret: string | null;
  /** Seconds before an unanswered request gets 504. */
  timeout: number;
  log: Logger;
}

/** Counters of the master's HTTP server. */
export interface MasterHttpStats {
  requests: number;
  /** Refused with 401 (no or wrong secret). */
  unauthorized: number;
  /** Refused with 400 (malformed JSON, bad fields). */
  badRequests: number;
  /** Answered by sendHttpResponse. */
  answered: number;
  /** Answered 504: the handler did not answer in time. */
  timedOut: number;
  /** sendHttpResponse after the 504 (or a second time): dropped. */
  late: number;
  /** sendHttpResponse with an id never issued: dropped. */
  unknown: number;
  /** The client went away before the answer. */
  aborted: number;
  /** A handler threw: 500. */
  failed: number;
}

interface Pending {
  res: HttpResponse;
  timer: NodeJS.Timeout;
  path: string;
}

const RESERVED = '/admin/';
/** Ids of finished requests kept to tell a late answer from an unknown one. */
const FINISHED_KEPT = 10_000;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export class MasterHttp {
  readonly stats: MasterHttpStats = { requests: 0, unauthorized: 0, badRequests: 0, answered: 0, timedOut: 0, late: 0, unknown: 0, aborted: 0, failed: 0 };
  private readonly router = new Router({ bodyLimit: 1024 * 1024 });
  private readonly handlers = new Map<string, MasterHttpHandler>();
  private readonly builtins = new Map<string, { methods: readonly string[]; fn: BuiltinRoute }>();
  private readonly pending = new Map<number, Pending>();
  private readonly finished = new Set<number>();
  private readonly secretDigest: Buffer | null;
  private listener: HttpListener | null = null;
  private nextId = 1;

  constructor(private readonly opts: MasterHttpOptions) {
    this.secretDigest = opts.secret ? digest(opts.secret) : null;
    // One entry point: the secret is checked before anything else, unknown paths included.
    this.router.all('/*', (req, res) => this.handle(req, res));
    this.router.all('/', (req, res) => this.handle(req, res));
  }

  /** `http://host:port` once listening, else null. */
  get url(): string | null {
    return this.listener?.url ?? null;
  }

  /** The bound port once listening, else null. */
  get port(): number | null {
    return this.listener?.address.port ?? null;
  }

  /** Requests waiting for sendHttpResponse. */
  get pendingCount(): number {
    return this.pending.size;
  }

  async start(): Promise<void> {
    if (this.opts.port === null) {
      this.opts.log.info('master HTTP off: the config gives no master.port');
      return;
    }
    if (!this.secretDigest) this.opts.log.warn('master HTTP: no master.http_secret (nor GAMEWIRE_MASTER_HTTP_SECRET): every request will get 401');
    this.listener = await listenHttp(this.router, { host: this.opts.host, port: this.opts.port }, { logger: this.opts.log, closeGraceMs: 500 });
    this.opts.log.info({ url: this.listener.url }, 'master HTTP listening');
  }

  async stop(): Promise<void> {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      if (!p.res.sent) p.res.json({ code: 0, message: 'the master is stopping' }, 503);
      this.pending.delete(id);
    }
    const l = this.listener;
    this.listener = null;
    if (l) await l.close();
  }

  /** Registers `handler` for `url` (GET and POST). A later registration replaces the earlier. */
  register(url: string, handler: MasterHttpHandler): void {
    if (typeof url !== 'string' || !url.startsWith('/') || url.includes('?') || url.includes('#')) {
      throw new GamewireError('ERR_INVALID_ARG', `registerMasterHttp: the url is a path such as "/kick-user" (got ${JSON.stringify(url)})`);
    }
    if (url.startsWith(RESERVED)) throw new GamewireError('ERR_INVALID_ARG', `registerMasterHttp: ${RESERVED}... is gamewire's admin API`);
    if (typeof handler !== 'function') throw new GamewireError('ERR_INVALID_ARG', 'registerMasterHttp needs a handler function');
    const path = normalize(url);
    if (this.handlers.has(path)) this.opts.log.debug({ url: path }, 'master HTTP handler replaced');
    this.handlers.set(path, handler);
  }

  /** Adds a built-in route (admin.ts). */
  addBuiltin(path: string, methods: readonly string[], fn: BuiltinRoute): void {
    this.builtins.set(path, { methods, fn });
  }

  /**
   * Answers request `clientId` with `message` (text, sent as `application/json` when it parses as
   * JSON; an object is sent as JSON). Returns false (and drops it) when the request is unknown,
   * already answered or timed out.
   */
  respond(clientId: number, message: unknown, status = 200): boolean {
    const p = this.pending.get(clientId);
    if (!p) {
      if (this.finished.has(clientId)) {
        this.stats.late++;
        this.opts.log.warn({ clientId }, 'sendHttpResponse after the request was answered or timed out: dropped');
      } else {
        this.stats.unknown++;
        this.opts.log.warn({ clientId }, 'sendHttpResponse for an unknown clientId: dropped');
      }
      return false;
    }
    this.finish(clientId, p);
    if (!Number.isInteger(status) || status < 100 || status > 599) status = 200;
    this.stats.answered++;
    if (typeof message === 'string') {
      let json = false;
      try {
        JSON.parse(message);
        json = true;
      } catch {
        /* plain text */
      }
      p.res.status(status).send(message, json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8');
    } else if (message instanceof Uint8Array) {
      p.res.status(status).send(message);
    } else {
      p.res.json(message ?? null, status);
    }
    return true;
  }

  private finish(clientId: number, p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(clientId);
    this.finished.add(clientId);
    if (this.finished.size > FINISHED_KEPT) this.finished.delete(this.finished.values().next().value!);
  }

  private authorized(req: HttpRequest): boolean {
    if (!this.secretDigest) return false;
    const h = req.header('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h.trim());
    if (!m) return false;
    return timingSafeEqual(digest(m[1]!), this.secretDigest);
  }

  private async handle(req: HttpRequest, res: HttpResponse): Promise<void> {
    this.stats.requests++;
    if (!this.authorized(req)) {
      this.stats.unauthorized++;
      res.header('www-authenticate', 'Bearer realm="gamewire-master"').json({ code: 0, message: 'unauthorized: send the master\'s shared secret as "Authorization: Bearer <secret>"' }, 401);
      req.raw.resume();
      return;
    }
    const path = normalize(req.path);
    const info: MasterHttpRequest = { method: req.method, path, query: req.query, remoteAddress: req.remoteAddress };
    const builtin = this.builtins.get(path);
    const handler = this.handlers.get(path);
    if (!builtin && !handler) {
      req.raw.resume();
      throw new HttpError(404, `no handler for ${path}`);
    }
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') {
      req.raw.resume();
      res.header('allow', 'GET, POST');
      throw new HttpError(405, 'GET or POST');
    }
    let text: string;
    try {
      text = await req.text();
    } catch (err) {
      if (err instanceof HttpError) this.stats.badRequests++;
      throw err;
    }
    let parsed: unknown = undefined;
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        this.stats.badRequests++;
        res.json({ code: 0, message: `malformed JSON body: ${(err as Error).message}` }, 400);
        return;
      }
    }
    if (builtin) {
      if (!builtin.methods.includes(req.method === 'HEAD' ? 'GET' : req.method)) {
        res.header('allow', builtin.methods.join(', '));
        throw new HttpError(405, `${builtin.methods.join(' or ')} only`);
      }
      const input: Record<string, unknown> = { ...req.query };
      if (parsed !== undefined) {
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          this.stats.badRequests++;
          res.json({ code: 0, message: 'the body is a JSON object' }, 400);
          return;
        }
        Object.assign(input, parsed);
      }
      const out = await builtin.fn(input, info);
      if (out.status === 400) this.stats.badRequests++;
      res.json(out.body, out.status);
      return;
    }
    const clientId = this.nextId++;
    const timer = setTimeout(() => {
      const p = this.pending.get(clientId);
      if (!p) return;
      this.finish(clientId, p);
      this.stats.timedOut++;
      this.opts.log.warn({ clientId, path, timeout: this.opts.timeout }, 'master HTTP handler did not answer in time: 504');
      p.res.json({ code: 0, message: 'the handler did not answer in time' }, 504);
    }, this.opts.timeout * 1000);
    timer.unref();
    const p: Pending = { res, timer, path };
    this.pending.set(clientId, p);
    res.raw.once('close', () => {
      if (this.pending.get(clientId) === p && !res.raw.writableEnded) {
        this.finish(clientId, p);
        this.stats.aborted++;
      }
    });
    try {
      const r = handler!(clientId, text, info);
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, (err: unknown) => this.handlerFailed(clientId, p, err));
      }
    } catch (err) {
      this.handlerFailed(clientId, p, err);
    }
  }

  private handlerFailed(clientId: number, p: Pending, err: unknown): void {
    this.stats.failed++;
    this.opts.log.error({ err, clientId, path: p.path }, 'master HTTP handler threw');
    if (this.pending.get(clientId) !== p) return;
    this.finish(clientId, p);
    p.res.json({ code: 0, message: 'internal server error' }, 500);
  }
}

/** `/a/` → `/a` (the router ignores trailing slashes; so do the handler names). */
function normalize(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.replace(/\/+$/, '') || '/' : path;
}
