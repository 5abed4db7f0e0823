/**
 * The daily sign-in example's code lives in `ts/cluster/demo/daily-signin/client.ts`, so it is compiled
 * into the package and `gamewire demo` (`npm start`) runs it; read it there. This file keeps the
 * example's import paths.
 */
export * from '../../ts/cluster/demo/daily-signin/client.js';
