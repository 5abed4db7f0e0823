/**
 * The cluster's optional dependencies: each is loaded only when the config needs it, and a
 * missing one is a MissingDependencyError naming the package to install. The memory store and the
 * in-process bus need none of them; importing gamewire/cluster loads none of them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster, MissingDependencyError } from '../../../ts/cluster/index.js';
import { optionalDeps } from '../../../ts/cluster/optional-deps.js';
import { ROOT } from '../helpers/child.js';
import { FAST } from '../helpers/cluster.js';

const OPTIONAL = ['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv', 'better-sqlite3', 'node:sqlite'];
const realLoad = optionalDeps.load;

/** Makes these packages fail to import the way a package that is not installed does. */
function uninstall(...packages: string[]): void {
  optionalDeps.load = (specifier) => {
    if (!packages.includes(specifier)) return realLoad(specifier);
    return Promise.reject(Object.assign(new Error(`Cannot find package '${specifier}' imported from ${ROOT}`), { code: 'ERR_MODULE_NOT_FOUND' }));
  };
}

afterEach(() => {
  optionalDeps.load = realLoad;
});

const config = (extra: Record<string, unknown>) => ({ game_key: 'k', master: { serverid: 0 }, serverlist: [], ...extra });

describe('a missing optional dependency', () => {
  it('the NATS bus: names @nats-io/transport-node', async () => {
    uninstall(...OPTIONAL);
    const err = await Cluster.start(config({ nats: { servers: 'nats://127.0.0.1:4222' }, store: { memory: true } }), { logLevel: 'silent', ...FAST }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MissingDependencyError);
    expect(err).toMatchObject({ code: 'ERR_MISSING_DEPENDENCY', packageName: '@nats-io/transport-node' });
    expect((err as Error).message).toBe('the NATS bus needs the optional package @nats-io/transport-node: npm install @nats-io/transport-node');
  });

  it("the master's nats-kv store: names @nats-io/kv", async () => {
    uninstall('@nats-io/kv');
    const { NatsKvStore } = await import('../../../ts/cluster/master/store/nats-kv-store.js');
    await expect(NatsKvStore.open({ servers: 'nats://127.0.0.1:4222', bucket: 'b' }, { info() {} } as never)).rejects.toThrow(
      "the master's nats-kv store needs the optional package @nats-io/kv: npm install @nats-io/kv",
    );
  });

  it('the SQLite store on a Node without node:sqlite: names better-sqlite3', async () => {
    uninstall('node:sqlite', 'better-sqlite3');
    const dir = mkdtempSync(join(tmpdir(), 'gamewire-optional-'));
    try {
      const err = await Cluster.start(config({ store: { sqlite: join(dir, 'm.sqlite') } }), { logLevel: 'silent', ...FAST }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'ERR_MISSING_DEPENDENCY', packageName: 'better-sqlite3' });
      expect((err as Error).message).toMatch(/^the master's SQLite store on Node [0-9.]+ \(it has no node:sqlite\) needs the optional package better-sqlite3: npm install better-sqlite3$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the memory store and the in-process bus need none of them', async () => {
    uninstall(...OPTIONAL);
    const cluster = await Cluster.start(config({ store: { memory: true } }), { logLevel: 'silent', ...FAST });
    try {
      expect(await cluster.master!.netgameApi.banUser(1, 60, 'r')).toBe(true);
      expect(await cluster.master!.netgameApi.getBanUserInfo(1)).toMatchObject({ banTime: 60, reason: 'r' });
    } finally {
      await cluster.stop();
    }
  });
});

it('importing gamewire/cluster and running a cluster on the memory store loads no optional package', async () => {
  const dir = mkdtempSync(join(ROOT, 'test', '.optional-'));
  try {
    // A resolver that refuses the optional packages, as a machine without them would.
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `const refused = ${JSON.stringify(OPTIONAL)};
export async function resolve(specifier, context, next) {
  if (refused.includes(specifier)) throw Object.assign(new Error('refused: ' + specifier), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(specifier, context);
}
`,
    );
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
    writeFileSync(
      join(dir, 'main.ts'),
      `import { Cluster } from '../../ts/cluster/index.js';
const cluster = await Cluster.start({ game_key: 'k', master: { serverid: 0 }, serverlist: [], store: { memory: true } }, { logLevel: 'silent' });
await cluster.master!.netgameApi.banUser(1, 60, 'r');
await cluster.stop();
console.log('ok');
`,
    );
    const p = spawn(process.execPath, ['--import', join(dir, 'register.mjs'), '--import', 'tsx', join(dir, 'main.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    expect({ code, out: out.trim() }).toEqual({ code: 0, out: 'ok' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
