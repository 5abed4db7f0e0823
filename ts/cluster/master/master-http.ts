/**
 * The master's HTTP server (`masterHttp`): the project's `Router`, served by `listenHttp` (its
 * timeouts and connection cap included) on the master's configured address (`master.ip`, default
 * 127.0.0.1; `master.port`, 0 picks a free port; no port: no server). It serves the routes game
 * code registers with `registerMasterHttp(url, handler)` and gamewire's admin routes
 * (`/admin/...`, admin-routes.ts).
 *
 * - **Closed by default.** Every request must carry the shared secret of the config
 *   (`master.http_secret`, else the environment variable `GAMEWIRE_MASTER_HTTP_SECRET`) as
 *   `Authorization: Bearer <secret>`; without it (or when no secret is configured) the answer is
 *   401 and no handler runs, unknown paths included (nobody can probe for routes). The comparison
 *   takes constant time.
 * - A registered handler gets `(clientId, requestBody, request)`: a unique id, the body as text (a
 *   non-empty body must be JSON: otherwise 400 and no handler runs), and the method, path and
 *   query. It answers with `sendHttpResponse(clientId, message)` at any time (asynchronously too).
 *   A request not answered within `master.http_timeout` seconds (default 10) gets 504; an answer
 *   after that is dropped, logged and counted (`stats.late`). A handler that throws: 500.
 * - An admin route validates its input with a zod schema (a POST's JSON body; a GET's query
 *   string, numbers and booleans coerced) and refuses a bad one with 400 naming every field.
 * - Every error answer has one shape:
 *   `{ "error": { "status": 400, "code": "ERR_INVALID_ARG", "message": "...", "issues": [{ "path": "reason", "message": "..." }] } }`
 *   (`issues` only when fields were refused).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { ArgumentError, type ErrorCode } from '../../errors.js';
import type { Logger } from '../../log.js';
import { HttpError, listenHttp, Router, type HttpListener, type HttpMethod, type HttpRequest, type HttpResponse } from '../../net/http.js';
import type { Clock, ClockTimer } from '../../clock.js';
import { inputIssues, type InputIssue } from './api-inputs.js';

/** What a handler learns about the request besides its body. */
export interface MasterHttpRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: Readonly<Record<string, string>>;
  remoteAddress: string | undefined;
}

/** A registered handler (`func(clientId, requestBody)`); answer with `sendHttpResponse`. */
export type MasterHttpHandler = (clientId: number, requestBody: string, request: MasterHttpRequest) => unknown;

/** What an admin route answers: a status and a JSON body. */
export interface AdminAnswer {
  status: number;
  body: unknown;
}

/** An admin route: its validated input in, an answer out. */
export type AdminRoute<T> = (input: T, request: MasterHttpRequest) => Promise<AdminAnswer> | AdminAnswer;

export interface MasterHttpOptions {
  host: string;
  /** null: no HTTP server. */
  port: number | null;
  /** null: every request gets 401. */
  secret: string | null;
  /** Seconds before an unanswered request gets 504. */
  timeout: number;
  log: Logger;
  /** The time source of the handler timeouts. */
  clock: Clock;
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
  timer: ClockTimer;
  path: string;
}

/** The admin API's paths. */
export const ADMIN_PREFIX = '/admin/';
/** Ids of finished requests kept to tell a late answer from an unknown one. */
const FINISHED_KEPT = 10_000;
/** The methods a registered handler serves. */
const USER_METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST'];
const ALL_METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** The one error body shape. */
export function errorBody(status: number, code: ErrorCode, message: string, issues?: readonly InputIssue[]): { error: { status: number; code: ErrorCode; message: string; issues?: InputIssue[] } } {
  return { error: { status, code, message, ...(issues && issues.length > 0 ? { issues: [...issues] } : {}) } };
}

/** An admin route's error answer. */
export function adminError(status: number, code: ErrorCode, message: string): AdminAnswer {
  return { status, body: errorBody(status, code, message) };
}

function sendError(res: HttpResponse, status: number, code: ErrorCode, message: string, issues?: readonly InputIssue[]): void {
  if (res.sent) return;
  res.json(errorBody(status, code, message, issues), status);
}

export class MasterHttp {
  readonly stats: MasterHttpStats = { requests: 0, unauthorized: 0, badRequests: 0, answered: 0, timedOut: 0, late: 0, unknown: 0, aborted: 0, failed: 0 };
  private readonly router: Router;
  /** The registered handlers, by path (a route is added once per path; re-registering swaps the handler). */
  private readonly handlers = new Map<string, MasterHttpHandler>();
  private readonly pending = new Map<number, Pending>();
  private readonly finished = new Set<number>();
  private readonly secretDigest: Buffer | null;
  private listener: HttpListener | null = null;
  private nextId = 1;

  constructor(private readonly opts: MasterHttpOptions) {
    this.secretDigest = opts.secret ? digest(opts.secret) : null;
    this.router = new Router({ bodyLimit: 1024 * 1024, logger: opts.log });
    // Whatever no route serves: the secret first (no probing for routes), then 404 or 405.
    this.router.all('/*', (req, res) => {
      if (this.admit(req, res)) this.noRoute(req, res);
    });
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
      p.timer.cancel();
      sendError(p.res, 503, 'ERR_STATE', 'the master is stopping');
      this.pending.delete(id);
    }
    const l = this.listener;
    this.listener = null;
    if (l) await l.close();
  }

  /** Registers `handler` for `url` (GET and POST). A later registration replaces the earlier. */
  register(url: string, handler: MasterHttpHandler): void {
    if (typeof url !== 'string' || !/^\/[^?#:*\s]*$/.test(url)) {
      throw new ArgumentError(`registerMasterHttp: the url is a plain path such as "/kick-user" (got ${JSON.stringify(url)})`);
    }
    if (url.startsWith(ADMIN_PREFIX)) throw new ArgumentError(`registerMasterHttp: ${ADMIN_PREFIX}... is gamewire's admin API`);
    if (typeof handler !== 'function') throw new ArgumentError('registerMasterHttp needs a handler function');
    const path = normalize(url);
    if (this.handlers.has(path)) this.opts.log.debug({ url: path }, 'master HTTP handler replaced');
    else this.router.on(USER_METHODS, path, (req, res) => this.runHandler(path, req, res));
    this.handlers.set(path, handler);
  }

  /**
   * Adds an admin route: its input (a GET's query string, a POST's JSON body) is validated with
   * `schema` (null: no input) before `route` runs.
   */
  admin<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T> | null, route: AdminRoute<T>): void {
    const handler = async (req: HttpRequest, res: HttpResponse): Promise<void> => {
      if (!this.admit(req, res)) return;
      let raw: unknown = {};
      if (method === 'GET') raw = { ...req.query };
      else {
        const body = await this.readBody(req, res);
        if (body === null) return;
        raw = body.value ?? {};
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return this.refuse(res, 'the body is a JSON object');
      }
      let input = raw as T;
      if (schema) {
        const r = schema.safeParse(raw);
        if (!r.success) return this.refuse(res, `invalid request to ${path}`, inputIssues(r.error));
        input = r.data;
      }
      try {
        const out = await route(input, describe(req, path));
        if (out.status === 400) this.stats.badRequests++;
        res.json(out.body, out.status);
      } catch (err) {
        this.stats.failed++;
        this.opts.log.error({ err, path }, 'master admin route failed');
        sendError(res, 500, 'ERR_HTTP', 'internal server error');
      }
    };
    if (method === 'GET') this.router.get(path, handler);
    else this.router.post(path, handler);
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
    p.timer.cancel();
    this.pending.delete(clientId);
    this.finished.add(clientId);
    if (this.finished.size > FINISHED_KEPT) this.finished.delete(this.finished.values().next().value!);
  }

  /** Counts the request and checks the shared secret; answers 401 (and returns false) without it. */
  private admit(req: HttpRequest, res: HttpResponse): boolean {
    this.stats.requests++;
    const m = /^Bearer\s+(.+)$/i.exec((req.header('authorization') ?? '').trim());
    if (this.secretDigest && m && timingSafeEqual(digest(m[1]!), this.secretDigest)) return true;
    this.stats.unauthorized++;
    req.raw.resume();
    res.header('www-authenticate', 'Bearer realm="gamewire-master"');
    sendError(res, 401, 'ERR_HTTP', 'unauthorized: send the master\'s shared secret as "Authorization: Bearer <secret>"');
    return false;
  }

  private noRoute(req: HttpRequest, res: HttpResponse): void {
    req.raw.resume();
    const path = normalize(req.path);
    const allowed = ALL_METHODS.filter((m) => this.router.hasRoute(m, path));
    if (allowed.length === 0 || allowed.includes(req.method as HttpMethod)) return sendError(res, 404, 'ERR_HTTP', `no handler for ${path}`);
    res.header('allow', allowed.join(', '));
    sendError(res, 405, 'ERR_HTTP', `${req.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`);
  }

  private refuse(res: HttpResponse, message: string, issues?: readonly InputIssue[]): void {
    this.stats.badRequests++;
    sendError(res, 400, 'ERR_INVALID_ARG', message, issues);
  }

  /** The body as text and, when not empty, parsed JSON; null once an error was answered. */
  private async readBody(req: HttpRequest, res: HttpResponse): Promise<{ text: string; value: unknown } | null> {
    let text: string;
    try {
      text = await req.text();
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      this.stats.badRequests++;
      sendError(res, err.status, err.status === 413 ? 'ERR_MESSAGE_TOO_LARGE' : 'ERR_INVALID_ARG', err.message);
      return null;
    }
    if (text.trim() === '') return { text, value: undefined };
    try {
      return { text, value: JSON.parse(text) as unknown };
    } catch (err) {
      this.refuse(res, `malformed JSON body: ${(err as Error).message}`);
      return null;
    }
  }

  private async runHandler(path: string, req: HttpRequest, res: HttpResponse): Promise<void> {
    if (!this.admit(req, res)) return;
    const body = await this.readBody(req, res);
    if (body === null) return;
    const handler = this.handlers.get(path)!;
    const clientId = this.nextId++;
    const timer = this.opts.clock.setTimeout(() => {
      const p = this.pending.get(clientId);
      if (!p) return;
      this.finish(clientId, p);
      this.stats.timedOut++;
      this.opts.log.warn({ clientId, path, timeout: this.opts.timeout }, 'master HTTP handler did not answer in time: 504');
      sendError(p.res, 504, 'ERR_TIMEOUT', 'the handler did not answer in time');
    }, this.opts.timeout * 1000);
    const p: Pending = { res, timer, path };
    this.pending.set(clientId, p);
    res.raw.once('close', () => {
      if (this.pending.get(clientId) === p && !res.raw.writableEnded) {
        this.finish(clientId, p);
        this.stats.aborted++;
      }
    });
    try {
      const r = handler(clientId, body.text, describe(req, path));
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
    sendError(p.res, 500, 'ERR_HTTP', 'internal server error');
  }
}

function describe(req: HttpRequest, path: string): MasterHttpRequest {
  return { method: req.method, path, query: req.query, remoteAddress: req.remoteAddress };
}

/** `/a/` → `/a` (the router ignores trailing slashes; so do the handler names). */
function normalize(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.replace(/\/+$/, '') || '/' : path;
}
