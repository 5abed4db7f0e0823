/**
 * Structured logging (pino), to stderr so that a program's own output stays clean.
 * `GAMEWIRE_LOG_LEVEL` sets the default level (`info`).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

let root: Logger | undefined;

/** The library's root logger, created on first use. */
export function rootLogger(): Logger {
  root ??= pino({ name: 'gamewire', level: process.env.GAMEWIRE_LOG_LEVEL ?? 'info' }, pino.destination(2));
  return root;
}
