#!/usr/bin/env node
// A benchmark world: nats + the four built services on a temp root, busybox loaded. Writes the env for the CLI
// to the file named by argv[2] (shell "export" lines) and runs until SIGTERM/SIGINT, then tears everything down.
// Usage: node libs/client/scripts/bench-world.js /tmp/world.env &  ... ; kill %1
const fs = require('node:fs');
const path = require('node:path');
const { busyboxImage, dockerArchive, spawnService, startNatsServer, tempBerthDirs, waitHealthy } = require('@berth/testing');

async function main() {
  const envFile = process.argv[2];
  const dirs = tempBerthDirs('berth-bench-');
  const nats = await startNatsServer();
  const extra = { BERTH_LOG_LEVEL: 'warn', BERTH_LOG_JSON: '1', BERTH_BRIDGE_NAME: process.env.BENCH_BRIDGE ?? 'berthbench0', BERTH_BRIDGE_SUBNET: process.env.BENCH_SUBNET ?? '10.213.77.0/24' };
  const services = ['image-store', 'rootfs', 'supervisor', 'inspector'].map((service) =>
    spawnService({ service, root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url, env: extra }));
  await Promise.all(services.map((s) => waitHealthy(s)));
  const archive = path.join(dirs.root, 'busybox.tar');
  fs.writeFileSync(archive, await dockerArchive([await busyboxImage()]));
  const env = { BERTH_RUN: dirs.runDir, BERTH_ROOT: dirs.root, BERTH_NATS_URL: nats.url, BENCH_ARCHIVE: archive };
  fs.writeFileSync(envFile, Object.entries(env).map(([k, v]) => `export ${k}=${v}\n`).join(''));
  process.stdout.write(`ready ${dirs.root}\n`);
  const stop = async () => {
    for (const s of services.reverse()) await s.stop();
    await nats.dispose();
    const left = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((t) => t.startsWith(dirs.root) || t.startsWith(dirs.runDir));
    for (const t of left.reverse()) require('node:child_process').spawnSync('umount', ['-l', t]);
    dirs.cleanup();
    // CNI DEL leaves the bridge behind; it is this world's own.
    require('node:child_process').spawnSync('ip', ['link', 'del', extra.BERTH_BRIDGE_NAME]);
    fs.rmSync(envFile, { force: true });
    process.stdout.write(`stopped${left.length ? `; mounts left: ${left.join(', ')}` : ''}\n`);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  for (const s of services) s.exited.then(() => process.stdout.write(`service exited: ${s.output().slice(-2000)}\n`));
}
main().catch((e) => { console.error(e); process.exit(1); });
