// `run --rm busybox true`: through the berth CLI (a new Node process, as a person types it) side by side with
// `podman run --rm`, with no network and with each engine's default bridge; and through the SDK from this warm
// process (what an orchestrator sees), with a per-phase breakdown of the SDK's run workflow.
import type { Berth } from '@berth/client';
import { runCase, type CaseResult, type Subject } from '../harness';
import { run, PODMAN_RUN_FLAGS } from '../exec';
import { summarise } from '../stats';
import { BUSYBOX, type BenchContext, type CaseModule } from '../context';

function podmanRun(network: 'none' | 'bridge'): Subject {
  const net = network === 'none' ? ['--network', 'none'] : [];
  return { name: 'podman', run: async () => void (await run('podman', ['run', '--rm', ...PODMAN_RUN_FLAGS, ...net, BUSYBOX, 'true'])) };
}

function cliRunCase(network: 'none' | 'bridge'): CaseModule {
  const name = `run-rm-${network}-cli`;
  return {
    name,
    async run(ctx) {
      await ctx.ensureImages();
      const net = network === 'none' ? ['--network', 'none'] : [];
      const subjects: Subject[] = [{ name: 'berth', run: async () => void (await ctx.cli(['run', '--rm', ...net, BUSYBOX, 'true'])) }];
      if (ctx.podman) subjects.push(podmanRun(network));
      const r = await runCase(
        { name, description: `run --rm ${network === 'none' ? '--network none ' : '(default bridge) '}busybox true, CLI process end to end`, unit: 'ms', subjects, runs: ctx.runs, warmup: 2 },
        ctx.log,
      );
      return [r];
    },
  };
}

/** One SDK run --rm, awaited to the end (exited and removed, snapshot too). */
export async function sdkRunTrue(sdk: Berth, networkMode: string, cmd: string[] = ['true']): Promise<void> {
  const res = await sdk.run({ image: BUSYBOX, overrides: { cmd }, hostConfig: { networkMode }, remove: true, attach: {} }, { stdout: () => undefined, stderr: () => undefined });
  const end = await res.done!;
  if (end.exitCode !== 0) throw new Error(`run --rm ${cmd.join(' ')} exited ${end.exitCode}`);
}

const PHASES = ['resolve', 'unpack', 'prepare', 'create', 'attach+start→exit', 'wait removed', 'delete', 'snapshot remove'] as const;

/** The SDK's run workflow step by step (as libs/client berth.ts does it), timing each step. */
async function phasedRun(sdk: Berth, networkMode: string): Promise<Record<string, number>> {
  const { randomBytes } = await import('node:crypto');
  const { containersV1 } = await import('@berth/api');
  const { mergeImageConfig, parseImageConfig } = await import('@berth/client');
  const t: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    t[phase] = now - t0;
    t0 = now;
  };
  const img = await sdk.resolveImage(BUSYBOX);
  const r = img.resolved!;
  const config = mergeImageConfig(BUSYBOX, r.id, parseImageConfig(BUSYBOX, r.configJson), { cmd: ['true'] });
  lap('resolve');
  const unpacked = await sdk.snapshots.unpack({ layers: r.layers.map((blob, i) => ({ blob, diffId: r.diffIds[i] ?? '' })), image: img.image?.name ?? BUSYBOX });
  lap('unpack');
  const id = randomBytes(32).toString('hex');
  const prepared = await sdk.snapshots.prepare({ key: id, parent: unpacked.chainId, labels: { 'berth.container': id } });
  lap('prepare');
  await sdk.containers.create({ id, name: '', config, hostConfig: containersV1.HostConfig.fromPartial({ networkMode, autoRemove: true }), rootfs: prepared.mounts, snapshotKey: id });
  lap('create');
  const session = sdk.attach(id, { start: true }, { stdout: () => undefined, stderr: () => undefined });
  const end = await session.done;
  if (end.exitCode !== 0) throw new Error(`phased run exited ${end.exitCode}`);
  lap('attach+start→exit');
  await sdk.containers.wait({ id, condition: 'removed' }, { deadline: Date.now() + 15_000 }).catch(() => undefined);
  lap('wait removed');
  await sdk.containers.delete({ id, force: true, removeVolumes: true }).catch(() => undefined);
  lap('delete');
  await sdk.removeSnapshot(id);
  lap('snapshot remove');
  return t;
}

function sdkRunCase(network: 'none' | 'bridge'): CaseModule {
  const name = `run-rm-${network}-sdk`;
  return {
    name,
    async run(ctx) {
      await ctx.ensureImages();
      const subjects: Subject[] = [{ name: 'berth-sdk', run: () => sdkRunTrue(ctx.sdk, network) }];
      if (ctx.podman) subjects.push(podmanRun(network));
      const r = await runCase(
        { name, description: `run --rm busybox true through the SDK from a warm process (${network}); podman CLI for scale`, unit: 'ms', subjects, runs: ctx.runs * 2, warmup: 3 },
        ctx.log,
      );
      // Where the time goes: the same workflow step by step, as many times again.
      const phases: Record<string, number[]> = {};
      for (let i = 0; i < ctx.runs * 2; i++) {
        const t = await phasedRun(ctx.sdk, network);
        for (const [k, v] of Object.entries(t)) (phases[k] ??= []).push(v);
      }
      r.notes = {
        goalMs: network === 'none' ? 20 : undefined,
        phaseMedianMs: Object.fromEntries(PHASES.map((p) => [p, round2(summarise(phases[p] ?? []).median)])),
      };
      return [r];
    },
  };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

export const runRmNoneCli = cliRunCase('none');
export const runRmBridgeCli = cliRunCase('bridge');
export const runRmNoneSdk = sdkRunCase('none');
export const runRmBridgeSdk = sdkRunCase('bridge');

/** `berth --version` (the cheapest verb) against a bare `node -e 0` and `podman --version`. */
export const cliStartup: CaseModule = {
  name: 'cli-startup',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const subjects: Subject[] = [
      { name: 'berth', run: async () => void (await ctx.cli(['--version'])) },
      { name: 'node', run: async () => void (await run(process.execPath, ['-e', '0'])) },
    ];
    if (ctx.podman) subjects.push({ name: 'podman', run: async () => void (await run('podman', ['--version'])) });
    return [await runCase({ name: 'cli-startup', description: 'berth --version vs node -e 0 vs podman --version', unit: 'ms', subjects, runs: ctx.runs * 2, warmup: 2 }, ctx.log)];
  },
};
