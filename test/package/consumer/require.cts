// A CommonJS consumer: TypeScript compiles this import to require(), and Node loads the ES module
// through require(esm) (Node >= 20.19, >= 22.12). Prints what it saw as one JSON line.
import gamewire = require('gamewire');

const key = gamewire.PrivateKey.generate();
const pub: gamewire.PublicKey = key.publicKey();

void import('gamewire').then((esm) => {
  const seen = {
    backend: gamewire.loadBackend().name,
    // One module instance for require() and import: errors and classes compare equal.
    sameModule: esm.PrivateKey === gamewire.PrivateKey && esm.BackendLoadError === gamewire.BackendLoadError,
    publicPem: pub.toPem().startsWith('-----BEGIN PUBLIC KEY-----'),
  };
  process.stdout.write(`${JSON.stringify(seen)}\n`);
});
