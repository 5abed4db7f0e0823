/**
 * Types of the module `wasm-bindgen --target web` makes from crates/wasm (written next to the
 * compiled browser entry by `node scripts/build.mjs browser`). Only what the browser entry uses
 * is declared here; the functions are those of the `wasm` backend (`WasmBinding`).
 */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** Fetches and instantiates the module once; later calls return the same instance. */
export default function init(input?: { module_or_path: InitInput | Promise<InitInput> }): Promise<unknown>;
