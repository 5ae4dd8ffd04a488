/**
 * Reading Linux's /proc: a process's state, parent, command line, CPU time and memory, and
 * the host's CPU and memory. Used by the benchmark (CPU and memory figures), its worker
 * processes (their own peak memory) and the process-fault tests (what is alive, what a
 * worker started). Every reader returns null (or undefined) where /proc is not there.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second: the unit of the CPU times in /proc. */
export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * The fields of /proc/<pid>/stat after the command name (which is in parentheses and may hold
 * spaces): [0] is the state (field 3 of proc(5)), [1] the parent pid, [11] and [12] utime and
 * stime. Undefined when the process is gone.
 */
export function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True when `pid` names a live process (a zombie counts as dead). */
export function alive(pid: number): boolean {
  const fields = procStat(pid);
  if (fields) return fields[0] !== 'Z' && fields[0] !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Parent pid of a live process. */
export function parentOf(pid: number): number | undefined {
  const fields = procStat(pid);
  return fields ? Number(fields[1]) : undefined;
}

/** Command line of a live process, as its argv (throws when it is gone). */
export function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** Pids of the live descendants of `pid` (children, grandchildren, ...). */
export function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const p = parentOf(Number(entry));
    if (p === undefined) continue;
    const list = byParent.get(p) ?? [];
    list.push(Number(entry));
    byParent.set(p, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const next = queue.shift() as number;
    for (const c of byParent.get(next) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** User + system CPU seconds of a process (null when unavailable). */
export function cpuSeconds(pid: number | undefined): number | null {
  const fields = pid ? procStat(pid) : undefined;
  return fields ? (Number(fields[11]) + Number(fields[12])) / CLK_TCK : null;
}

/** A `kB` field of /proc/<pid>/status (VmRSS, VmHWM, ...) in KiB; `self` is this process. */
export function procStatusKb(pid: number | 'self' | undefined, field: string): number | null {
  if (!pid) return null;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Idle and total jiffies of all CPUs, from /proc/stat. */
export function hostCpu(): { idle: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { idle, total: v.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/** The host's memory in MB per /proc/meminfo (null off Linux). */
export function memTotalMb(): number | null {
  try {
    const m = /^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}
