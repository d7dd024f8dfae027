// Rootfs Prepare latency (a writable snapshot over an unpacked image), plus mounting and unmounting what it
// returns with mount(8), and removing the snapshot: absolute figures, no peer (podman has no such step on its
// own). On the ~120 MB debootstrap image with --big, else on busybox.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { debootstrapImageArchive } from '@berth/testing';
import type { CaseResult } from '../harness';
import { run } from '../exec';
import { summarise } from '../stats';
import { connectClients, loadAndUnpack, unloadImage } from '../grpc-clients';
import { BUSYBOX, type BenchContext, type CaseModule } from '../context';

export const prepare: CaseModule = {
  name: 'prepare',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const clients = connectClients(ctx.berth.env);
    let imageName = BUSYBOX;
    let loaded: string[] = [];
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-mnt-'));
    const t: Record<'prepare' | 'mount' | 'umount' | 'remove', number[]> = { prepare: [], mount: [], umount: [], remove: [] };
    try {
      let chainId: string;
      if (ctx.big) {
        const got = await loadAndUnpack(clients, debootstrapImageArchive(ctx.cacheDir));
        loaded = got.names;
        imageName = got.names[0]!;
        chainId = got.chainIds[0]!;
      } else {
        await ctx.ensureImages();
        const r = (await ctx.sdk.resolveImage(BUSYBOX)).resolved!;
        chainId = (await ctx.sdk.snapshots.unpack({ layers: r.layers.map((blob, i) => ({ blob, diffId: r.diffIds[i] ?? '' })), image: BUSYBOX })).chainId;
      }
      const n = ctx.runs * 3;
      for (let i = 0; i < n + 2; i++) {
        const key = `bench-prepare-${process.pid}-${i}`;
        let t0 = performance.now();
        const lap = (k: keyof typeof t) => {
          const now = performance.now();
          if (i >= 2) t[k].push(now - t0);
          t0 = now;
        };
        const prepared = await ctx.sdk.snapshots.prepare({ key, parent: chainId, labels: {} });
        lap('prepare');
        const m = prepared.mounts[0]!;
        await run('mount', ['-t', m.type, '-o', m.options.join(','), m.source, target]);
        lap('mount');
        if (!fs.existsSync(path.join(target, 'bin'))) throw new Error(`the prepared rootfs of ${imageName} has no /bin`);
        t0 = performance.now();
        await run('umount', [target]);
        lap('umount');
        await ctx.sdk.snapshots.remove({ key, force: true, owner: '' });
        lap('remove');
      }
    } finally {
      await run('umount', [target]).catch(() => undefined);
      fs.rmSync(target, { recursive: true, force: true });
      if (loaded.length) await unloadImage(clients, loaded);
      clients.close();
    }
    const results = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, summarise(v)]));
    return [
      {
        name: 'prepare',
        description: `Snapshots.Prepare on ${imageName}, then mount(8) + umount(8) of its overlay, then Snapshots.Remove (absolute)`,
        unit: 'ms',
        results,
        ratios: {},
      },
    ];
  },
};
