import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Stack } from '@bridgekeeper/testing';

/** What the machine is, printed and saved with every figure. */
export function machine() {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export interface Contender {
  name: string;
  /** One operation (awaited). */
  run: () => Promise<unknown>;
}

export interface Throughput {
  name: string;
  opsPerSec: number;
  meanMs: number;
  p99Ms: number;
  /** The slowest single operation (it blocked the event loop this long). */
  maxMs: number;
  samples: number;
}

/**
 * Runs the contenders alternately: several rounds, each contender in turn (the order rotates),
 * so noise on the machine hits all of them alike. Ops/s is the median of the rounds.
 */
export async function alternate(contenders: Contender[], opts: { rounds: number; opsPerRound: number; warmup: number }): Promise<Throughput[]> {
  for (const c of contenders) for (let i = 0; i < opts.warmup; i++) await c.run();
  const perRound = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const latencies = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < opts.rounds; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
    for (const c of order) {
      // Each contender starts on a clean heap: one's garbage is not collected on another's time.
      (globalThis as { gc?: () => void }).gc?.();
      const lat = latencies.get(c.name)!;
      const start = process.hrtime.bigint();
      for (let i = 0; i < opts.opsPerRound; i++) {
        const t = process.hrtime.bigint();
        await c.run();
        lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      perRound.get(c.name)!.push(opts.opsPerRound / seconds);
    }
  }
  return contenders.map((c) => {
    const lat = latencies.get(c.name)!;
    return {
      name: c.name,
      opsPerSec: median(perRound.get(c.name)!),
      meanMs: mean(lat),
      p99Ms: percentile(lat, 99),
      maxMs: Math.max(...lat),
      samples: lat.length,
    };
  });
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
export const median = (xs: number[]) => percentile(xs, 50);
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Peak resident set of a process (Linux: VmHWM), in MiB. */
export function peakRssMiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system, seconds) by pid, of the processes named in `cpuUsed`. */
export type CpuReading = Record<string, Map<number, number>>;

/**
 * A reading of the CPU time each named process has used so far (Linux /proc): a pid, or a
 * process name for all live processes of that name (PostgreSQL's backends, Keycloak's `java`).
 */
export function cpuReading(who: Record<string, number | string | undefined>): CpuReading {
  const tick = 100; // USER_HZ on Linux
  const stat = (pid: number) => {
    try {
      const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
      return { comm: line.slice(line.indexOf('(') + 1, line.lastIndexOf(')')), seconds: (Number(fields[11]) + Number(fields[12])) / tick };
    } catch {
      return null;
    }
  };
  const all = Object.values(who).some((w) => typeof w === 'string')
    ? readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map(Number)
    : [];
  const named = new Map<number, { comm: string; seconds: number }>();
  for (const pid of all) {
    const s = stat(pid);
    if (s) named.set(pid, s);
  }
  return Object.fromEntries(
    Object.entries(who).map(([label, w]) => {
      if (typeof w === 'string') return [label, new Map([...named].filter(([, s]) => s.comm === w).map(([pid, s]) => [pid, s.seconds]))];
      const s = w === undefined ? null : stat(w);
      return [label, new Map(s ? [[w!, s.seconds]] : [])];
    }),
  );
}

/**
 * CPU seconds used between two readings, by label. A process that started in between counts
 * from zero; one that ended takes its time with it (so compare long-lived processes: a service's
 * pool keeps its PostgreSQL backends).
 */
export function cpuUsed(before: CpuReading, after: CpuReading): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).map(([label, pids]) => [label, [...pids].reduce((sum, [pid, s]) => sum + s - (before[label]?.get(pid) ?? 0), 0)]),
  );
}

/**
 * Node flags for the services a bench starts: BENCH_CPU_PROF=<dir> writes V8 CPU profiles (when
 * the bench stops them), BENCH_NODE_ARGS adds any others (e.g. `--trace-gc`).
 */
export function serviceNodeArgs(): Record<string, string> {
  const args = [process.env.BENCH_CPU_PROF ? `--cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROF}` : '', process.env.BENCH_NODE_ARGS ?? '']
    .filter(Boolean)
    .join(' ');
  return args ? { NODE_ARGS: args } : {};
}

/** With BENCH_NODE_ARGS, what each service printed (e.g. its GC trace), under bench/results/. */
export function saveServiceOutput(bench: string, stack: Stack): void {
  if (!process.env.BENCH_NODE_ARGS) return;
  mkdirSync(resultsDir, { recursive: true });
  for (const s of Object.values(stack.services)) {
    if (!s.output) continue; // not started by this bench
    const file = join(resultsDir, `${bench}-${s.name}.log`);
    writeFileSync(file, s.output);
    console.log(`  ${s.name}'s output: ${file}`);
  }
}

export function printTable(title: string, rows: Record<string, unknown>[]): void {
  console.log(`\n${title}`);
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)) : String(v ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(cols));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
}

const RESULTS = join(__dirname, '..', '..', '..', 'bench', 'results');
let resultsDir = RESULTS;

/** A smoke run (`--quick`) measures nothing: its figures go to bench/results/quick/, never over a real run's. */
export function smokeRun(): void {
  resultsDir = join(RESULTS, 'quick');
}

/** Saves one bench's figures as JSON under bench/results/ (with the machine and the time). */
export function saveResult(name: string, data: unknown): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ bench: name, at: new Date().toISOString(), machine: machine(), ...(data as object) }, null, 2)}\n`);
  return file;
}
