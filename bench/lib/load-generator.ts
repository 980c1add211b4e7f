import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

/**
 * The load generator, a process of its own (so its work is not counted against auth): POSTs
 * prepared form bodies, each once, at a fixed rate or as fast as `connections` allow, and prints
 * its figures as JSON on the last line.
 *   node load-generator.js <url> <bodies.json> <connections> <rate|0>
 */
async function main() {
  const [url, file, connections, rate] = process.argv.slice(2);
  const bodies = JSON.parse(readFileSync(file, 'utf8')) as string[];
  let next = 0;
  const statuses: Record<string, number> = {};
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    connections: Number(connections),
    overallRate: Number(rate) > 0 ? Number(rate) : undefined,
    amount: bodies.length,
    timeout: 30,
    requests: [
      {
        setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
        onResponse: (status) => void (statuses[status] = (statuses[status] ?? 0) + 1),
      },
    ],
  });
  console.log(
    JSON.stringify({
      requests: result.requests.total,
      durationS: result.duration,
      perSecond: result.requests.total / result.duration,
      latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
      statuses,
      errors: result.errors,
      timeouts: result.timeouts,
    }),
  );
}

void main();
