/**
 * gamewire/browser: a gamewire client for web pages, over WebTransport datagrams or a WebSocket,
 * on the WebAssembly core. Plain ES modules with relative imports only: a page can load it from
 * a static server without a bundler, and bundlers take it as it is. The core's `.wasm` file is
 * fetched relative to this module.
 *
 * ```js
 * import { BrowserClient, RetryMode } from 'gamewire/browser';
 * const client = new BrowserClient({ rootPublicKey: pem });
 * client.on('message', (seq, bytes) => console.log(new TextDecoder().decode(bytes)));
 * await client.connect('https://game.example:4433/gamewire');
 * client.send(new TextEncoder().encode('hello'), RetryMode.RETRY_ON_TIMEOUT, (acked) => {});
 * ```
 */
export {
  BrowserClient,
  type BrowserClientOptions,
  type BrowserConnectOptions,
  type BrowserClientEvents,
  type BrowserCloseReason,
  type BrowserServerUrl,
  type BrowserTransport,
} from './client.js';
export type { BrowserNetOptions } from './engine.js';
export { RetryMode, ConnectionStatus, type CloseReason } from '../net/constants.js';
export type { ConnectionStats } from '../net/stats.js';
export { GamewireError, ConfigError, TimeoutError, type ErrorCode } from '../errors.js';
