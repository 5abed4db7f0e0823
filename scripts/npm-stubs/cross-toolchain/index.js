throw new Error("@napi-rs/cross-toolchain is stubbed out in gamewire (see scripts/npm-stubs/README.md)");
