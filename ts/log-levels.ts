/**
 * Log level names and `GAMEWIRE_LOG_LEVEL`, apart from the logger itself so that code which only
 * parses a level (the command line) loads no logging library.
 */

/** Level names, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The level `GAMEWIRE_LOG_LEVEL` asks for (`info` when unset or unknown). */
export function envLogLevel(): LogLevel {
  const v = process.env.GAMEWIRE_LOG_LEVEL?.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(v ?? '') ? (v as LogLevel) : 'info';
}
