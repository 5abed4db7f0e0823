/** A pino logger whose records a test can read. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface Captured {
  logger: Logger;
  records: Record<string, unknown>[];
}

export function captureLogs(): Captured {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) records.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}
