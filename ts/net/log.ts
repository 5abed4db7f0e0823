/** Structured logging (pino). `GAMEWIRE_LOG_LEVEL` sets the default level (`info`). */
import { pino, type Logger } from 'pino';

export type { Logger };

let root: Logger | undefined;

/** The library's root logger, created on first use. */
export function rootLogger(): Logger {
  root ??= pino({ name: 'gamewire', level: process.env.GAMEWIRE_LOG_LEVEL ?? 'info' });
  return root;
}
