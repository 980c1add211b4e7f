import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';

/**
 * The load generator, a process of its own (so its work is not counted against auth): POSTs
 * prepared form bodies, each once, evenly spaced at a fixed rate or as fast as `connections`
 * allow, and prints its figures as JSON on the last line.
 *   node load-generator.js <url> <bodies.json> <connections> <rate|0> [cookie]
 * The cookie header goes with every request (the browser binding every login needs, login/browser-binding.ts).
 */
/** Headers every request carries (the cookie, when given). */
const extraHeaders: Record<string, string> = {};

async function main() {
  const [url, file, connections, rate, cookie] = process.argv.slice(2);
  if (cookie) extraHeaders.cookie = cookie;
  const bodies = JSON.parse(readFileSync(file, 'utf8')) as string[];
  const result = Number(rate) > 0 ? await paced(url, bodies, Number(rate)) : await flatOut(url, bodies, Number(connections));
  console.log(JSON.stringify(result));
}

/**
 * As fast as `connections` keep-alive connections allow (closed model): autocannon. The run lasts
 * from the first request to the last response, timed here: autocannon's own duration ends at its
 * next one-second tick after the last response, which can add most of a second to a run of ten
 * (1,500 logins read as 125, 136 or 150 per second, nothing in between).
 */
async function flatOut(url: string, bodies: string[], connections: number) {
  let next = 0;
  const statuses: Record<string, number> = {};
  let first = NaN;
  let last = NaN;
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...extraHeaders },
    connections,
    amount: bodies.length,
    timeout: 30,
    requests: [
      {
        setupRequest: (req) => {
          if (Number.isNaN(first)) first = performance.now();
          return { ...req, body: bodies[next++ % bodies.length] };
        },
        onResponse: (status) => {
          last = performance.now();
          statuses[status] = (statuses[status] ?? 0) + 1;
        },
      },
    ],
  });
  // No response at all (every request failed): autocannon's own duration is all there is.
  const durationS = last > first ? (last - first) / 1000 : result.duration;
  return {
    requests: result.requests.total,
    durationS,
    perSecond: result.requests.total / durationS,
    latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/**
 * A steady rate (open model): request i is due at start + i / rate, sent then whatever the
 * others are doing, and its latency counts from when it was due (a generator that falls
 * behind does not hide the wait). autocannon's own rate limit is not used for this: it sends
 * each connection's quota back to back at the start of every second, which is a burst.
 */
async function paced(url: string, bodies: string[], rate: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(url);
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let errors = 0;
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...extraHeaders },
          timeout: 30_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(body);
    });
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < bodies.length; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      post(bodies[i]).then(
        (status) => {
          latencies.push(performance.now() - due);
          statuses[status] = (statuses[status] ?? 0) + 1;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(inFlight);
  const durationS = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] * 10) / 10;
  return {
    requests: latencies.length + errors,
    durationS,
    perSecond: latencies.length / durationS,
    latency: { p50: at(50), p90: at(90), p99: at(99), max: at(100), mean: latencies.reduce((a, b) => a + b, 0) / latencies.length },
    statuses,
    errors,
    timeouts: 0,
  };
}

void main();
