// Writes one project's test totals, and what each failing test printed, to
// $BERTH_TEST_SUMMARY_DIR/<project>.json, so tools/test.sh can close the run with the totals and the
// failures: CI keeps only the tail of the output, and a failure printed minutes earlier is lost there.
const fs = require('node:fs');
const path = require('node:path');

const MESSAGE_LINES = 25;
const ANSI = /\u001b\[[0-9;]*m/g;

function firstLines(text) {
  // Stack frames inside jest and node say nothing about the failure; the test's own frames stay.
  const lines = text
    .replace(ANSI, '')
    .split('\n')
    .filter((line) => !/^\s+at .*(node_modules\/|node:internal|<anonymous>)/.test(line));
  const kept = lines.slice(0, MESSAGE_LINES);
  if (lines.length > MESSAGE_LINES) kept.push(`  … ${lines.length - MESSAGE_LINES} more lines`);
  return kept.join('\n');
}

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const dir = process.env.BERTH_TEST_SUMMARY_DIR;
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    const repo = path.join(__dirname, '..');
    const name = path.relative(repo, this.rootDir).replace(/\//g, '-') || 'root';
    const failures = [];
    for (const suite of results.testResults) {
      const file = path.relative(repo, suite.testFilePath);
      if (suite.testExecError) {
        failures.push({ file, test: '(the suite could not run)', message: firstLines(suite.testExecError.message ?? String(suite.testExecError)) });
      }
      for (const test of suite.testResults) {
        if (test.status !== 'failed') continue;
        failures.push({ file, test: test.fullName, message: firstLines(test.failureMessages.join('\n')) });
      }
    }
    const summary = {
      project: name,
      passed: results.numPassedTests,
      failed: results.numFailedTests,
      skipped: results.numPendingTests + results.numTodoTests,
      // Suites that could not run (a syntax error, a missing module...) have no failed test to count.
      failedSuites: results.numRuntimeErrorTestSuites,
      failures,
    };
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(summary));
  }
}

module.exports = SummaryReporter;
