/**
 * gamewire's one logger factory. Every component (server, client, dashboard, HTTP, cluster nodes,
 * the CLI) logs through a `Logger` it was given or through `defaultLogger()`:
 *
 * - pass your own: any pino instance, or any object with pino's level methods and `child`;
 * - or let gamewire make one: pino, JSON lines on stderr (a program's stdout stays its own), at the
 *   level of `GAMEWIRE_LOG_LEVEL` (`info` when unset; `silent` turns it off).
 *
 * `componentLogger(base, 'dashboard')` binds `component` once: a logger that already carries a
 * component is re-derived from the logger it came from, so no line ever repeats a key.
 * Pretty-printing is the reader's choice: `node server.js 2>&1 | npx pino-pretty`.
 */
import { pino } from 'pino';
import { envLogLevel, type LogLevel } from './log-levels.js';

/** A log method: `(msg)` or `(object, msg?)`, as pino's. */
export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

/** What gamewire needs of a logger: pino's level methods and `child`. */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  /** pino's current level name, where the logger has one. */
  level?: string;
}

export { LOG_LEVELS, envLogLevel, type LogLevel } from './log-levels.js';

export interface CreateLoggerOptions {
  /** Level (default: `GAMEWIRE_LOG_LEVEL`, else `info`). */
  level?: LogLevel;
  /** Bindings on every line (default `{ name: 'gamewire' }`). */
  base?: Record<string, unknown>;
  /** File descriptor to write to (default 2, stderr). */
  fd?: 1 | 2;
}

/** A new pino logger honouring `GAMEWIRE_LOG_LEVEL`. */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  return pino(
    { level: opts.level ?? envLogLevel(), base: opts.base ?? { name: 'gamewire' } },
    pino.destination(opts.fd ?? 2),
  ) as Logger;
}

let root: Logger | undefined;

/** The library's shared default logger (created on first use). */
export function defaultLogger(): Logger {
  root ??= createLogger();
  return root;
}

/** Where each component logger came from, so a component is never bound twice. */
const parents = new WeakMap<Logger, Logger>();

/**
 * `base` with `component` bound. If `base` is itself a component logger made here, the new one is
 * made from `base`'s own parent instead (`server` → `dashboard`, not `server` + `dashboard`).
 */
export function componentLogger(base: Logger | undefined, component: string): Logger {
  const parent = base ? (parents.get(base) ?? base) : defaultLogger();
  const log = parent.child({ component });
  parents.set(log, parent);
  return log;
}
