import { machine, smokeRun } from './lib/harness';
import { eventLagBench } from './event-lag.bench';
import { loginPathBench } from './login-path.bench';
import { samlValidationBench } from './saml-validation.bench';
import { userSyncBench } from './user-sync.bench';

/**
 * `pnpm bench [saml] [login] [events] [sync] [--size 10k|100k] [--quick]`: the figures of issue 8,
 * each printed as a table and saved under bench/results/. No name runs them all. `--quick` is a
 * smoke run (tiny sizes, seconds), not a measurement: its results go to bench/results/quick/.
 */
async function main() {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  if (quick) smokeRun();
  const named = args.filter((a) => !a.startsWith('--') && !/^\d+k$/.test(a));
  const want = (name: string) => named.length === 0 || named.includes(name);
  const m = machine();
  console.log(
    `Bridgekeeper bench — ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}${quick ? ' — QUICK SMOKE RUN, not a measurement' : ''}`,
  );
  let rawNodeSamlOpsPerSec: number | undefined;
  if (want('saml')) rawNodeSamlOpsPerSec = (await samlValidationBench(quick ? { rounds: 2, opsPerRound: 10 } : { rounds: 10, opsPerRound: 150 })).rawOpsPerSec;
  if (want('login')) {
    await loginPathBench(
      quick
        ? { users: 5, steady: { rates: [10], seconds: 2 }, burst: { connections: 4, logins: 20 }, rawNodeSamlOpsPerSec }
        : { users: 100, steady: { rates: [20, 50], seconds: 20 }, burst: { connections: 16, logins: 1500 }, rawNodeSamlOpsPerSec },
    );
  }
  const size = args.includes('--size') ? args[args.indexOf('--size') + 1] : '10k';
  if (want('sync')) {
    await userSyncBench(
      quick
        ? { users: 200, groups: 10, membershipsPerUser: 5 }
        : size === '100k'
          ? { users: 100_000, groups: 1000, membershipsPerUser: 5 }
          : { users: 10_000, groups: 100, membershipsPerUser: 5 },
    );
  }
  if (want('events')) await eventLagBench(quick ? { rate: 10, seconds: 2, users: 5 } : { rate: 50, seconds: 30, users: 100 });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
