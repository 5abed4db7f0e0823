throw new Error("@napi-rs/wasm-tools is stubbed out in gamewire (see scripts/npm-stubs/README.md)");
