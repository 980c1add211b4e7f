// Adds this run's counts to $BK_TEST_SUMMARY (scripts/test.sh prints the total as its closing
// line: "tests: N passed, N failed, N skipped"), or prints them when run alone.
const fs = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const counts = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    if (process.env.BK_TEST_SUMMARY) fs.appendFileSync(process.env.BK_TEST_SUMMARY, `${JSON.stringify(counts)}\n`);
    else process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
