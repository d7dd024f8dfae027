#!/usr/bin/env node
// Times each step of `run --rm IMAGE true` through the SDK from a warm process (BERTH_RUN set, as for the CLI).
// Usage: node libs/client/scripts/run-phases.js [iterations=10] [network=none]
const { Berth } = require('@berth/client');
const api = require('@berth/api');

const N = Number(process.argv[2] ?? 10);
const network = process.argv[3] ?? 'none';
const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

async function once(b, phases) {
  const t = { start: now() };
  const mark = (k) => { const n = now(); phases[k] = (phases[k] ?? []).concat(n - t.last); t.last = n; };
  t.last = t.start;
  const img = await b.resolveImage('busybox');
  mark('resolveImage');
  const r = img.resolved;
  const unpacked = await b.snapshots.unpack({ layers: r.layers.map((blob, i) => ({ blob, diffId: r.diffIds[i] ?? '' })), image: img.image.name });
  mark('unpack');
  const id = require('node:crypto').randomBytes(32).toString('hex');
  const prepared = await b.snapshots.prepare({ key: id, parent: unpacked.chainId, labels: { 'berth.container': id } });
  mark('prepare');
  const cfg = JSON.parse(Buffer.from(r.configJson).toString()).config ?? {};
  await b.containers.create({ id, name: '', config: api.containersV1.ContainerConfig.fromPartial({ image: 'busybox', cmd: ['true'], env: cfg.Env ?? [] }),
    hostConfig: api.containersV1.HostConfig.fromPartial({ autoRemove: true, networkMode: network }), rootfs: prepared.mounts, snapshotKey: id });
  mark('create');
  const s = b.attach(id, { start: true }, { stdout: () => undefined, stderr: () => undefined });
  const end = await s.done;
  mark('attach+start+exit');
  if (end.exitCode !== 0) throw new Error(`exit ${end.exitCode}`);
  try { await b.containers.wait({ id, condition: 'removed' }); } catch { /* gone */ }
  mark('wait removed');
  await b.removeSnapshot(id);
  mark('snapshot remove');
  phases.total = (phases.total ?? []).concat(now() - t.start);
}

async function main() {
  const b = new Berth();
  const phases = {};
  const cold = {};
  await once(b, cold); // the first run of this process: cold channels and code, as the CLI's only run
  console.log('first (cold) run: ' + Object.entries(cold).map(([k, v]) => `${k} ${v[0].toFixed(1)}`).join(', '));
  for (let i = 0; i < N; i++) await once(b, phases);
  // and the SDK's own run()
  const runs = [];
  for (let i = 0; i < N; i++) {
    const t0 = now();
    const res = await b.run({ image: 'busybox', overrides: { cmd: ['true'] }, hostConfig: { networkMode: network }, remove: true, attach: {} }, { stdout: () => undefined, stderr: () => undefined });
    const end = await res.done;
    if (end.exitCode !== 0) throw new Error(`exit ${end.exitCode}`);
    runs.push(now() - t0);
  }
  for (const [k, v] of Object.entries(phases)) console.log(`${k.padEnd(20)} median ${median(v).toFixed(1)} ms  min ${Math.min(...v).toFixed(1)}`);
  console.log(`${'sdk run()'.padEnd(20)} median ${median(runs).toFixed(1)} ms  min ${Math.min(...runs).toFixed(1)}`);
  b.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
