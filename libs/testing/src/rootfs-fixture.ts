// A real container root filesystem for supervisor tests: the busybox test layer extracted into a lower dir,
// with a fresh upper/work pair per container, handed over as the overlay mount spec rootfs Prepare returns.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildLayer, busyboxLayerEntries } from './test-images';

export interface OverlayMountSpec {
  type: string;
  source: string;
  target: string;
  options: string[];
}

export interface RootfsFixture {
  /** The extracted busybox tree (read-only lower layer). */
  lowerDir: string;
  /** A new writable layer on top of the lower dir: its overlay mount spec. */
  newRootfs(): OverlayMountSpec[];
  /** Removes the lower dir and every upper/work pair (the caller unmounts first). */
  cleanup(): void;
}

export async function busyboxRootfsFixture(): Promise<RootfsFixture> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rootfs-'));
  const lowerDir = path.join(base, 'lower');
  fs.mkdirSync(lowerDir);
  const layer = await buildLayer(busyboxLayerEntries());
  const tarFile = path.join(base, 'layer.tar');
  fs.writeFileSync(tarFile, layer.tar);
  execFileSync('tar', ['-x', '-f', tarFile, '-C', lowerDir]);
  fs.rmSync(tarFile);
  let n = 0;
  return {
    lowerDir,
    newRootfs: () => {
      const dir = path.join(base, `c${n++}`);
      fs.mkdirSync(path.join(dir, 'upper'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'work'));
      return [{ type: 'overlay', source: 'overlay', target: '', options: [`lowerdir=${lowerDir}`, `upperdir=${dir}/upper`, `workdir=${dir}/work`] }];
    },
    cleanup: () => fs.rmSync(base, { recursive: true, force: true }),
  };
}
