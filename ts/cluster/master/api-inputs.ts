/**
 * The inputs of the master's operations, as zod schemas: the HTTP admin routes validate request
 * bodies (and query strings) with them, and the programmatic API checks its text bounds with the
 * same limits (MASTER_LIMITS), so both refuse the same values.
 */
import { z } from 'zod';
import { ArgumentError } from '../../errors.js';
import { MASTER_LIMITS } from './limits.js';

/** One refused field: `path` names it (`reason`, `serverIds.2`). */
export interface InputIssue {
  path: string;
  message: string;
}

const int = z.number('an integer is required').int('an integer is required').refine(Number.isSafeInteger, 'out of range');
const uid = int;
const banTime = int.refine((t) => t > 0 || t === -1, 'seconds > 0, or -1 for good');
const reason = z.string('a string is required').max(MASTER_LIMITS.reason, `at most ${MASTER_LIMITS.reason} characters`);
const serverType = z
  .string('a string is required')
  .min(1, 'may not be empty')
  .max(MASTER_LIMITS.serverType, `at most ${MASTER_LIMITS.serverType} characters`)
  .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, '_' and '-' only");
const appVersion = z.string('a string is required').min(1, 'may not be empty').max(MASTER_LIMITS.appVersion, `at most ${MASTER_LIMITS.appVersion} characters`);
const ip = z.string('a string is required').max(MASTER_LIMITS.ip, `at most ${MASTER_LIMITS.ip} characters`);
const addNum = int.min(0, 'at least 0').max(MASTER_LIMITS.addNum, `at most ${MASTER_LIMITS.addNum}`);

/** `POST /admin/ban` and `/admin/silent` (combineReason is for bans). */
export const sanctionInput = z.strictObject({ uid, banTime, reason, combineReason: z.boolean('true or false').optional() });
/** `/admin/unban`, `/admin/unsilent`, `/admin/ban-info`, `/admin/silent-info`. */
export const uidInput = z.strictObject({ uid });
/** `POST /admin/stop-server`. */
export const stopServerInput = z.strictObject({ serverId: int, actType: z.union([z.literal(1), z.literal(2)], '1 (kick all, then stop) or 2 (wait until empty, then stop)') });
/** `POST /admin/reset-server`. */
export const resetServerInput = z.strictObject({ serverId: int });
/** `POST /admin/rolling-close`. */
export const rollingCloseInput = z.strictObject({
  serverIds: z.array(int, 'a list of server ids').min(1, 'at least one server id').max(MASTER_LIMITS.serverIds, `at most ${MASTER_LIMITS.serverIds} server ids`),
  transfer: z.boolean('true or false').optional(),
});
/** `POST /admin/rolling-update`, and `serverManager.rollingUpdateServers`. */
export const rollingUpdateInput = z.strictObject({ serverType, appVersion, ip: ip.optional(), addNum: addNum.optional() });

/** A query-string value as JSON would have it: `"12"` → 12, `"true"` → true. */
function fromQuery(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (/^-?[0-9]+$/.test(t)) return Number(t);
  if (t === 'true') return true;
  if (t === 'false') return false;
  return v;
}

/** The schema of a GET route: its query-string values coerced first (`?uid=12`). */
export function queryInput<T extends z.ZodObject>(schema: T): z.ZodPipe<z.ZodTransform<Record<string, unknown>, unknown>, T> {
  return z.transform((q: unknown) => Object.fromEntries(Object.entries(q as Record<string, unknown>).map(([k, v]) => [k, fromQuery(v)]))).pipe(schema);
}

/** zod's issues as `{ path, message }` (an unknown key becomes an issue of its own). */
export function inputIssues(error: z.ZodError): InputIssue[] {
  const out: InputIssue[] = [];
  for (const i of error.issues) {
    const at = i.path.map(String);
    if (i.code === 'unrecognized_keys') for (const k of i.keys) out.push({ path: [...at, k].join('.'), message: 'unknown field' });
    else out.push({ path: at.join('.'), message: i.message });
  }
  return out;
}

/**
 * Checks the arguments of a programmatic call against an input schema.
 * @throws ArgumentError naming every refused field.
 */
export function checkInput<T>(schema: z.ZodType<T>, value: unknown, call: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ArgumentError(`${call}: ${inputIssues(r.error).map((i) => `${i.path}: ${i.message}`).join('; ')}`);
}

/** A ban or mute reason over MASTER_LIMITS.reason would not reach the player whole. @throws ArgumentError */
export function checkReason(value: unknown, call: string): void {
  if (typeof value === 'string' && value.length > MASTER_LIMITS.reason) {
    throw new ArgumentError(`${call}: reason: at most ${MASTER_LIMITS.reason} characters (got ${value.length})`);
  }
}
