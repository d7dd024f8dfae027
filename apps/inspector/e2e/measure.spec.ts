// Figures for the report (printed): Inspect and List (ps) latency over gRPC with many sleeping containers
// present (network none), and one Stats sample of them all. Correctness is asserted; timing is printed only
// (a shared 2-core machine is noisy). BERTH_INSPECTOR_MEASURE_N sets the count (default 40).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { inspectorV1 } from '@berth/api';
import { REPO_ROOT, removeContainer, runContainer } from '@berth/testing';
import { collect, inspect, leftovers, list, startInspectorStack, type InspectorStack } from './harness';

jest.setTimeout(170_000);

const N = Number(process.env.BERTH_INSPECTOR_MEASURE_N ?? 40);
let s: InspectorStack;
const ids: string[] = [];

beforeAll(async () => {
  s = await startInspectorStack();
});

afterAll(async () => {
  // Parallel in small batches: the supervisor serialises per container, not globally.
  for (let i = 0; i < ids.length; i += 8) await Promise.all(ids.slice(i, i + 8).map((id) => removeContainer(s.stack, id).catch(() => undefined)));
  s?.client?.close();
  await s?.stack.stop();
  expect(leftovers(ids)).toEqual([]);
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e6];
}

test(`inspect and ps latency with ${N} sleeping containers`, async () => {
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    const c = await runContainer(s.stack, { image: 'busybox', name: `sleeper-${i}`, cmd: ['sleep', '1000'] });
    ids.push(c.id);
  }
  const startMs = Date.now() - t0;

  const psMs: number[] = [];
  const psAllMs: number[] = [];
  const inspectMs: number[] = [];
  for (let round = 0; round < 30; round++) {
    const [running, ms] = await timed(() => list(s.client));
    expect(running).toHaveLength(N);
    psMs.push(ms);
    const [, msAll] = await timed(() => list(s.client, { all: true, size: round === 0 }));
    psAllMs.push(msAll);
    const name = `sleeper-${round % N}`;
    const [doc, msI] = await timed(() => inspect(s.client, name));
    expect(doc.State.Running).toBe(true);
    inspectMs.push(msI);
  }
  const [stats, statsMs] = await timed(() => collect(s.client.stats(inspectorV1.StatsRequest.fromPartial({ stream: false }))));
  expect(stats[0]!.stats).toHaveLength(N);
  const [top, topMs] = await timed(() => new Promise<inspectorV1.TopResponse>((resolve, reject) => s.client.top({ id: 'sleeper-0', psArgs: [] }, (e: grpc.ServiceError | null, r?: inspectorV1.TopResponse) => (e ? reject(e) : resolve(r!)))));
  expect(top.processes).toHaveLength(1);
  // Streaming every container for 5 samples: the inspector's own CPU time per tick.
  const cpuTicks = () => {
    const st = fs.readFileSync(`/proc/${s.stack.procs.get('inspector')!.child.pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const c0 = cpuTicks();
  const streamed = await collect(s.client.stats(inspectorV1.StatsRequest.fromPartial({ stream: true })), (got) => got.length >= 6);
  const streamCpuMs = ((cpuTicks() - c0) * 1000) / 100 / streamed.length;
  for (const m of streamed) expect(m.stats).toHaveLength(N);

  // What a one-shot client process pays (node start, grpc-js load, connect, one call), as a CLI would.
  const script = `const g=require('@grpc/grpc-js');const {inspectorV1}=require('@berth/api');const c=new inspectorV1.InspectorClient(process.argv[1],g.credentials.createInsecure());c.list({all:false,last:0,filters:[],size:false},(e,r)=>{if(e)process.exit(1);process.stdout.write(String(r.containers.length));c.close();});`;
  const processMs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = process.hrtime.bigint();
    const out = execFileSync(process.execPath, ['-e', script, s.stack.procs.get('inspector')!.target], { cwd: REPO_ROOT, encoding: 'utf8' });
    processMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    expect(out).toBe(String(N));
  }
  console.log(
    [
      `one-shot client process doing ps (node start + grpc-js + call): median ${median(processMs).toFixed(0)} ms`,
      `${N} containers created+started through image-store/rootfs/supervisor in ${(startMs / 1000).toFixed(1)} s`,
      `ps (running): median ${median(psMs).toFixed(2)} ms, p90 ${p90(psMs).toFixed(2)} ms`,
      `ps -a: median ${median(psAllMs).toFixed(2)} ms`,
      `inspect one: median ${median(inspectMs).toFixed(2)} ms, p90 ${p90(inspectMs).toFixed(2)} ms`,
      `stats --no-stream of all ${N}: ${statsMs.toFixed(0)} ms (includes the 250 ms CPU priming interval)`,
      `top: ${topMs.toFixed(0)} ms`,
      `stats stream of all ${N}: about ${streamCpuMs.toFixed(1)} ms of inspector CPU per one-second sample`,
    ].join('\n'),
  );
});
