/** CPU time of other processes (Linux `/proc`), for the Python side and the machine's load. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU time of a process (all its threads) in µs, or null if unreadable. */
export function processCpuUs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) / clockTicks()) * 1e6;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine (all CPUs), from `/proc/stat`. */
export interface MachineCpu {
  busy: number;
  total: number;
}

export function machineCpu(): MachineCpu | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = v[3] + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Fraction of the machine's CPUs that were busy between two readings (0..1). */
export function busyFraction(a: MachineCpu | null, b: MachineCpu | null): number | null {
  if (!a || !b || b.total <= a.total) return null;
  return (b.busy - a.busy) / (b.total - a.total);
}

/** The machine's UDP counters (`/proc/net/snmp`): datagrams dropped because a socket's buffer was full. */
export interface UdpCounters {
  inDatagrams: number;
  rcvbufErrors: number;
  sndbufErrors: number;
}

export function udpCounters(): UdpCounters | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0].split(/\s+/).slice(1);
    const vals = lines[1].split(/\s+/).slice(1).map(Number);
    const get = (n: string): number => vals[names.indexOf(n)] ?? 0;
    return { inDatagrams: get('InDatagrams'), rcvbufErrors: get('RcvbufErrors'), sndbufErrors: get('SndbufErrors') };
  } catch {
    return null;
  }
}

/** Datagrams the kernel dropped at the UDP socket bound to `port` (`/proc/net/udp` drops), or null. */
export function socketDrops(port: number): number | null {
  try {
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 12 && f[1].endsWith(hex)) return Number(f[f.length - 1]);
    }
    return null;
  } catch {
    return null;
  }
}
