#!/usr/bin/env bash
# `npm test`: the whole berth test suite on this host, set-up included (Debian packages, cgroup layout,
# npm ci, build, generated-code check). Tests start their own nats-server, registry and services, with
# temporary state roots. Needs root: the tests run real containers.
#   BERTH_TEST_PROJECTS=rootfs,events   only these nx projects
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false CI=${CI:-true}

bash tools/host-setup.sh

summary_dir=$(mktemp -d /tmp/berth-test-summary.XXXXXX)
trap 'rm -rf "$summary_dir"' EXIT
export BERTH_TEST_SUMMARY_DIR=$summary_dir

projects=()
[ -n "${BERTH_TEST_PROJECTS:-}" ] && projects=(-p "$BERTH_TEST_PROJECTS")

status=0
echo "== generated code is up to date"
npx nx run api:check-generated --output-style=static || status=1
echo "== typecheck"
npx nx run-many -t typecheck "${projects[@]}" --output-style=static || status=1
echo "== tests"
# One project at a time: the e2e suites run real containers and services on a small machine.
npx nx run-many -t test "${projects[@]}" --parallel=1 --output-style=static -- --ci --forceExit || status=1

node -e '
const fs = require("fs"), path = require("path"), dir = process.argv[1];
let p = 0, f = 0, s = 0, fs2 = 0; const bad = [];
for (const file of fs.readdirSync(dir)) {
  const r = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
  p += r.passed; f += r.failed; s += r.skipped; fs2 += r.failedSuites;
  if (r.failed || r.failedSuites) bad.push(r.project);
  for (const x of r.failures ?? []) {
    console.log("\n✕ " + x.file + " › " + x.test);
    console.log(x.message.split("\n").map((l) => "    " + l).join("\n"));
  }
}
if (bad.length) console.log("");
if (bad.length) console.log("failing projects: " + bad.join(", ") + (fs2 ? " (" + fs2 + " suites failed to run)" : ""));
console.log("tests: " + p + " passed, " + (f + fs2) + " failed" + (s ? ", " + s + " skipped" : ""));
' "$summary_dir"
exit $status
