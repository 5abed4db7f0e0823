/**
 * The WebAssembly core in the browser: the module `wasm-bindgen --target web` builds from
 * crates/wasm (the same crate as the `wasm` backend), fetched relative to this module, wrapped by
 * the same engine adapter as on Node (`ts/backend/wasm.ts`, which is free of Node imports).
 */
import { wasmEngines, type WasmBinding } from '../backend/wasm.js';
import type { Engine, EngineLayout } from '../backend/types.js';
import { ConfigError, GamewireError } from '../errors.js';
import init, * as bindings from './gamewire_wasm.js';

/** The loaded core. */
export interface BrowserCore {
  readonly layout: EngineLayout;
  createClient(config: Float64Array, seed?: Uint8Array): Engine;
  defaultConfig(): Float64Array;
  /** SPKI DER from a PEM public key. */
  publicFromPem(pem: string): Uint8Array;
}

let loading: Promise<BrowserCore> | null = null;

/** Loads the core once per page (later calls share it). */
export function loadCore(): Promise<BrowserCore> {
  loading ??= (async () => {
    // `new URL(…, import.meta.url)`: a static server serves it beside this module, and bundlers
    // (Vite, esbuild, webpack) recognise the pattern and ship the file.
    await init({ module_or_path: new URL('./gamewire_wasm_bg.wasm', import.meta.url) });
    const b = bindings as unknown as WasmBinding;
    const layout = JSON.parse(b.layout()) as EngineLayout;
    const engines = wasmEngines(b, layout.stats.length);
    return {
      layout,
      createClient: engines.createClient,
      defaultConfig: engines.defaultConfig,
      publicFromPem: (pem: string) => engines.keys.publicFromPem(pem),
    };
  })().catch((err: unknown) => {
    loading = null;
    throw new GamewireError('ERR_BACKEND_UNAVAILABLE', `the gamewire WebAssembly core did not load: ${(err as Error).message}`, { cause: err });
  });
  return loading;
}

/** Engine options a browser client may set (seconds for times, as on Node). */
export interface BrowserNetOptions {
  /** Minimum gap between two packets, seconds (1/60). */
  sendInterval?: number;
  /** Idle time before a keep-alive, and the retry interval, seconds (0.1). */
  keepAliveInterval?: number;
  /** Ack timeout of a packet, seconds (1). */
  messageTimeout?: number;
  /** Drop the connection when the server is silent this long, seconds (5). */
  connectionTimeout?: number;
  /** Re-send the CLIENT_HELLO after this long, seconds (0.5). */
  handshakeRetransmit?: number;
  /** Give up connecting after this long, seconds (5). */
  connectTimeout?: number;
  /** Unsent and unacknowledged messages held before `send` refuses more. */
  maxQueuedMessages?: number;
}

const WHOLE = new Set(['maxQueuedMessages']);

/** The flat configuration from options (unknown keys and bad values are refused, naming them). */
export function browserConfig(core: BrowserCore, opts: BrowserNetOptions, unixMillisAtZero: number): Float64Array {
  const names = core.layout.config;
  const flat = core.defaultConfig();
  for (const [key, value] of Object.entries(opts) as [string, unknown][]) {
    if (value === undefined) continue;
    const i = names.indexOf(key);
    if (i < 0 || key === 'unixMillisAtZero') throw new ConfigError(`net.${key}`, 'is not a network option');
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (WHOLE.has(key) && !Number.isInteger(value))) {
      throw new ConfigError(`net.${key}`, `must be a non-negative ${WHOLE.has(key) ? 'whole number' : 'number of seconds'}, got ${JSON.stringify(value)}`);
    }
    flat[i] = value;
  }
  flat[names.indexOf('unixMillisAtZero')] = Math.floor(unixMillisAtZero);
  return flat;
}
