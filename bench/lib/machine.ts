/** Facts about the machine a run happened on, for the results and the docs. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** CPU features that decide AES-GCM speed (and a hint that we run in a VM). */
const FLAGS = ['aes', 'pclmulqdq', 'avx', 'avx2', 'avx512f', 'vaes', 'vpclmulqdq', 'sha_ni', 'hypervisor'] as const;

export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs the OS reports. */
  cores: number;
  /** CPUs this process may use (cgroup/affinity aware). */
  availableParallelism: number;
  /** CPU flags of interest present on this machine (Linux only). */
  cpuFlags: string[];
  memoryGiB: number;
  os: string;
  arch: string;
  nodeVersion: string;
  v8Version: string;
  /** OpenSSL inside Node (what node:crypto uses). */
  nodeOpenssl: string;
  /** `openssl version` of the CLI used for the reference, or null. */
  opensslCli: string | null;
  /** 1-minute load average when the run started and ended (other work on a shared machine). */
  loadAverage: { start: number; end: number };
}

function cpuFlags(): string[] {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    const have = new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
    return FLAGS.filter((f) => have.has(f));
  } catch {
    return [];
  }
}

/** The `openssl version` line, or null when there is no openssl CLI. */
export function opensslCliVersion(): string | null {
  try {
    return execFileSync('openssl', ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Collects the facts (call at the start of a run; `finish` records the end load). */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuFlags: cpuFlags(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    arch: process.arch,
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    nodeOpenssl: process.versions.openssl,
    opensslCli: opensslCliVersion(),
    loadAverage: { start: os.loadavg()[0], end: os.loadavg()[0] },
  };
}

/** Records the load average at the end of the run. */
export function finishMachineInfo(m: MachineInfo): void {
  m.loadAverage.end = os.loadavg()[0];
}

/** One line describing the machine. */
export function describeMachine(m: MachineInfo): string {
  return (
    `${m.cpuModel}, ${m.cores} logical CPUs (${m.availableParallelism} usable), ${m.memoryGiB} GiB, ${m.os} ${m.arch}; ` +
    `Node ${m.nodeVersion} (V8 ${m.v8Version}, OpenSSL ${m.nodeOpenssl}); ${m.opensslCli ?? 'no openssl CLI'}` +
    (m.cpuFlags.length > 0 ? `; CPU flags: ${m.cpuFlags.join(' ')}` : '')
  );
}
