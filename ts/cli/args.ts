/**
 * One small wrapper over `node:util` parseArgs for every command of the CLI. A command is a table
 * of options (each with its help line) and a `run` function; the wrapper gives every command
 * `--help`, builds its usage text from the table, and turns bad usage (an unknown option, a
 * missing value, a value out of range) into exit code 2 with a one-line message and the usage,
 * never a stack. Errors the command meets later (a file that cannot be read, a port in use) are
 * one line on stderr and exit code 1.
 */
import { parseArgs } from 'node:util';
import { GamewireError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../log-levels.js';

/** One option of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once (the values are collected in a list). */
  multiple?: boolean;
  /** The placeholder of its value in the usage (`PORT`). */
  value?: string;
  /** What it does, in one line (say the default here). */
  help: string;
}

export type OptionTable = Record<string, OptionSpec>;

/** What parsing an option table gives. */
export type OptionValues<T extends OptionTable> = {
  [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K]['multiple'] extends true ? string[] : string;
};

export interface CommandSpec<T extends OptionTable> {
  name: string;
  /** The command line(s) after `gamewire <name> `, e.g. `--config FILE [--load FILE]...`. */
  synopsis: string[];
  /** What the command does (a paragraph, shown under the synopsis). */
  description: string;
  options: T;
  /** Positional arguments it takes (none unless given). */
  positionals?: { min: number; max: number; names: string };
  run(values: OptionValues<T>, positionals: string[]): Promise<number>;
}

/** A command, its types erased, as the dispatcher runs it. */
export interface CliCommand {
  readonly name: string;
  usage(): string;
  main(argv: string[]): Promise<number>;
}

/** Bad usage: the command's usage follows the message, exit code 2. */
export class UsageError extends GamewireError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

function optionLine(name: string, o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
  return `  ${flag.padEnd(26)} ${o.help}${o.multiple ? ' (repeatable)' : ''}`;
}

/** Makes a command from its spec. */
export function defineCommand<T extends OptionTable>(spec: CommandSpec<T>): CliCommand {
  const table: OptionTable = { ...spec.options, help: HELP };
  const usage = () =>
    [
      ...spec.synopsis.map((s, i) => `${i === 0 ? 'usage:' : '      '} gamewire ${spec.name} ${s}`.trimEnd()),
      '',
      spec.description,
      '',
      'options:',
      ...Object.entries(table).map(([n, o]) => optionLine(n, o)),
      '',
    ].join('\n');
  return {
    name: spec.name,
    usage,
    async main(argv: string[]): Promise<number> {
      let values: OptionValues<T> & { help?: boolean };
      let positionals: string[];
      try {
        const config = Object.fromEntries(Object.entries(table).map(([n, o]) => [n, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]));
        const parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: true });
        values = parsed.values as OptionValues<T> & { help?: boolean };
        positionals = parsed.positionals;
        if (values.help) {
          process.stdout.write(usage());
          return 0;
        }
        const p = spec.positionals ?? { min: 0, max: 0, names: '' };
        if (positionals.length > p.max) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[p.max])}`);
        if (positionals.length < p.min) throw new UsageError(`${p.names} is required`);
        return await spec.run(values, positionals);
      } catch (err) {
        if (isUsageError(err)) {
          process.stderr.write(`gamewire ${spec.name}: ${usageMessage(err)}\n\n${usage()}`);
          return 2;
        }
        if (err instanceof GamewireError) {
          process.stderr.write(`gamewire ${spec.name}: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
    },
  };
}

function isUsageError(err: unknown): boolean {
  if (err instanceof UsageError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** parseArgs' messages, shortened to what the user typed. */
function usageMessage(err: unknown): string {
  const m = (err as Error).message;
  const missing = /^Option '(-\S+)(?:, (--\S+))? <value>' argument missing/.exec(m);
  if (missing) return `${missing[2] ?? missing[1]} needs a value`;
  const unknown = /^Unknown option '([^']+)'/.exec(m);
  if (unknown) return `unknown option ${unknown[1]}`;
  const positional = /^Unexpected argument '([^']+)'/.exec(m);
  if (positional) return `unexpected argument ${JSON.stringify(positional[1])}`;
  return m.split('\n')[0]!;
}

/** An integer option within [min, max]; undefined when not given. @throws UsageError */
export function intOption(values: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const n = Number(s);
  if (!/^-?[0-9]+$/.test(s) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} takes a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return n;
}

/** A number option within [min, max]; undefined when not given. @throws UsageError */
export function numberOption(values: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (String(v).trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} takes a number from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return n;
}

/** One of `choices`; undefined when not given. @throws UsageError */
export function choiceOption<C extends string>(values: Record<string, unknown>, name: string, choices: readonly C[]): C | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (!(choices as readonly unknown[]).includes(v)) throw new UsageError(`--${name} is one of ${choices.join(', ')} (got ${JSON.stringify(v)})`);
  return v as C;
}

/** `--log-level`: a level name; undefined when not given. @throws UsageError */
export function logLevelOption(values: Record<string, unknown>): LogLevel | undefined {
  return choiceOption(values, 'log-level', LOG_LEVELS);
}

/** A required option's value. @throws UsageError */
export function required<T>(value: T | undefined, name: string, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`--${name} ${what} is required`);
  return value;
}
