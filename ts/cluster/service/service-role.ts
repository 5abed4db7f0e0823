/**
 * The service role: the HTTP handlers of a service node (Apollo's `serviceHttp`). The master's
 * `masterHttp.sendHttpRequestToService(serverId, url, body)` reaches the handler the service
 * registered with `ServiceSystem#registerServiceHttp(url, handler)`, which answers with
 * `ServiceSystem#sendHttpResponse(clientId, message)`, at once or later.
 *
 * Engine operation: `http { url, body }` (master → service), answered `{ status, body }`: 200 and
 * the handler's message, or 404 when no handler serves the url. An answer after the master's
 * timeout is dropped there; here an unanswered request is forgotten after `master.http_timeout`.
 */
import { ArgumentError } from '../../errors.js';
import type { OpMessage } from '../core/bus-messages.js';
import type { ClockTimer } from '../../clock.js';
import { RoleKey, type NodeHost, type RolePart } from '../core/host.js';

/** A service's HTTP handler: `(clientId, requestBody)`; answer with `sendHttpResponse(clientId, message)`. */
export type ServiceHttpHandler = (clientId: number, requestBody: string) => unknown;

/** The service role part. */
export const SERVICE_ROLE = new RoleKey<ServiceRole>('service');

export class ServiceRole implements RolePart {
  private readonly handlers = new Map<string, ServiceHttpHandler>();
  private readonly pending = new Map<number, { m: OpMessage; timer: ClockTimer }>();
  private nextId = 1;
  readonly stats = { requests: 0, answered: 0, notFound: 0, late: 0 };

  constructor(private readonly node: NodeHost) {
    node.onOp('http', (m) => this.onRequest(m));
  }

  register(url: string, handler: ServiceHttpHandler): void {
    if (typeof url !== 'string' || !url.startsWith('/')) throw new ArgumentError(`registerServiceHttp: the url is a path such as "/test-request" (got ${JSON.stringify(url)})`);
    if (typeof handler !== 'function') throw new ArgumentError('registerServiceHttp needs a handler function');
    this.handlers.set(url, handler);
  }

  /** Answers request `clientId`; false (dropped) when unknown or forgotten. */
  respond(clientId: number, message: unknown): boolean {
    const p = this.pending.get(clientId);
    if (!p) {
      this.stats.late++;
      this.node.log.warn({ clientId }, 'service sendHttpResponse for an unknown or expired request: dropped');
      return false;
    }
    p.timer.cancel();
    this.pending.delete(clientId);
    this.stats.answered++;
    this.node.replyOp(p.m, { status: 200, body: typeof message === 'string' ? message : JSON.stringify(message ?? null) });
    return true;
  }

  stop(): void {
    for (const p of this.pending.values()) p.timer.cancel();
    this.pending.clear();
  }

  private onRequest(m: OpMessage): void {
    const b = m.body as { url?: unknown; body?: unknown };
    this.stats.requests++;
    const url = typeof b.url === 'string' ? b.url : '';
    const handler = this.handlers.get(url);
    if (!handler) {
      this.stats.notFound++;
      this.node.log.warn({ url, from: m.from }, 'HTTP request for a url no handler serves');
      this.node.replyOp(m, { status: 404, body: null });
      return;
    }
    const clientId = this.nextId++;
    const timer = this.node.clock.setTimeout(() => this.pending.delete(clientId), this.node.config.master.http_timeout * 1000);
    this.pending.set(clientId, { m, timer });
    try {
      const r = handler(clientId, typeof b.body === 'string' ? b.body : '');
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, (err: unknown) => this.node.log.error({ err, url }, 'service HTTP handler threw'));
    } catch (err) {
      this.node.log.error({ err, url }, 'service HTTP handler threw');
    }
  }
}
