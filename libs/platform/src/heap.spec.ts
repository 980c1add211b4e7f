import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transpileModule, ModuleKind } from 'typescript';

/**
 * The largest heap a process reaches holding about 60 MB while it churns through 2 GB of
 * short-lived objects, in a process of its own (heap behaviour is per process), with
 * `limitHeapGrowth` called first or not.
 */
function peakHeapMiB(dir: string, limited: boolean): number {
  const script = `
    ${limited ? "require('./heap.js').limitHeapGrowth();" : ''}
    const live = [];
    for (let i = 0; i < 600000; i++) live.push({ id: 'u' + i, name: 'user-' + i, n: i });
    let peak = 0, batch;
    for (let round = 0; round < 200; round++) {
      batch = [];
      for (let i = 0; i < 50000; i++) batch.push({ a: 'x' + i + round, b: [i, round] });
      peak = Math.max(peak, process.memoryUsage().heapTotal);
    }
    console.log(Math.round(peak / 1048576), live.length, batch.length);`;
  return Number(execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' }).split(' ')[0]);
}

describe('limitHeapGrowth', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bk-heap-'));
    const source = readFileSync(join(__dirname, 'heap.ts'), 'utf8');
    writeFileSync(join(dir, 'heap.js'), transpileModule(source, { compilerOptions: { module: ModuleKind.CommonJS } }).outputText);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the heap near what is live, where V8 alone lets it grow to several times that', () => {
    const unlimited = peakHeapMiB(dir, false);
    const limited = peakHeapMiB(dir, true);
    // About 60 MB live: V8 alone went to 340–360 MiB here, limited to about 160.
    expect(limited).toBeLessThan(220);
    expect(unlimited).toBeGreaterThan(limited * 1.3);
  });
});
