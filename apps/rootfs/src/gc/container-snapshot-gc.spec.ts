import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSnapshotter, type Snapshotter } from '../snapshots';
import { CONTAINER_LABEL, ContainerSnapshotGc, gcConsumerName, isMounted, type DestroyEvent } from './container-snapshot-gc';

const ID = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

describe('ContainerSnapshotGc', () => {
  let base: string;
  let sn: Snapshotter;
  let mountInfo: string;
  let gc: ContainerSnapshotGc;

  beforeEach(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-gc-'));
    sn = createSnapshotter('copy', base);
    mountInfo = '';
    gc = new ContainerSnapshotGc({ rootfs: sn, mountInfo: () => mountInfo });
    await sn.prepare(ID, '', { [CONTAINER_LABEL]: ID });
    await sn.prepare(OTHER, '', { [CONTAINER_LABEL]: OTHER });
    await sn.prepare('plain', '', {});
    // A container committed as a layer keeps the label but is not a writable snapshot any more.
    await sn.prepare('tmp', '', { [CONTAINER_LABEL]: ID });
    await sn.commit('layer', 'tmp');
  });

  afterEach(() => {
    sn.close();
    fs.rmSync(base, { recursive: true, force: true });
  });

  const keys = async () => (await sn.list()).map((s) => s.key).sort();
  const destroy = (subjectId: string, source = 'supervisor'): DestroyEvent => ({ topic: 'container.destroy', source, subjectId });

  it('removes only the active snapshot labelled with the destroyed container', async () => {
    expect(await gc.handle(destroy(ID))).toEqual({ removed: [ID], mounted: [] });
    expect(await keys()).toEqual(['layer', OTHER, 'plain'].sort());
    // Its directory went with it.
    expect(fs.readdirSync(path.join(base, 'snapshots')).length).toBe(3);
  });

  it('ignores destroys from other sources, other topics, and containers without a snapshot', async () => {
    expect(await gc.handle(destroy(ID, 'inspector'))).toBeUndefined();
    expect(await gc.handle({ topic: 'container.die', source: 'supervisor', subjectId: ID })).toBeUndefined();
    expect(await gc.handle(destroy('c'.repeat(64)))).toEqual({ removed: [], mounted: [] });
    expect(await gc.handle(destroy(''))).toEqual({ removed: [], mounted: [] });
    expect(await keys()).toEqual(['layer', ID, OTHER, 'plain'].sort());
  });

  it('keeps a snapshot that is still mounted (overlay upper dir or bind root)', async () => {
    const dir = (await sn.stat(ID)).layerDir;
    mountInfo = `530 29 0:61 / /run/x/rootfs rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=${dir},workdir=/w\n`;
    expect(await gc.handle(destroy(ID))).toEqual({ removed: [], mounted: [ID] });
    mountInfo = `531 29 253:1 ${dir} /run/y/rootfs rw,relatime - ext4 /dev/vda rw\n`;
    expect(await gc.handle(destroy(ID))).toEqual({ removed: [], mounted: [ID] });
    expect(await keys()).toContain(ID);
  });

  it('a snapshot the client removed first is no error', async () => {
    const slow = new ContainerSnapshotGc({
      // The client's rm lands between the collector's list and its remove.
      rootfs: { list: async () => { const all = await sn.list(); await sn.remove(ID); return all; }, remove: (key, opts) => sn.remove(key, opts) },
      mountInfo: () => '',
    });
    expect(await slow.handle(destroy(ID))).toEqual({ removed: [], mounted: [] });
    expect(await keys()).not.toContain(ID);
  });
});

describe('isMounted', () => {
  it('reads escaped paths', () => {
    expect(isMounted('1 2 0:1 /a\\040b /m rw - ext4 /dev/x rw\n', '/a b')).toBe(true);
    expect(isMounted('1 2 0:1 /a /m rw - ext4 /dev/x rw\n', '/a b')).toBe(false);
    expect(isMounted('1 2 0:1 / /m rw shared:1 - overlay overlay rw,upperdir=/s/1/fs,workdir=/s/1/work\n', '/s/1/fs')).toBe(true);
    expect(isMounted('1 2 0:1 / /m rw shared:1 - overlay overlay rw,upperdir=/s/10/fs,workdir=/s/1/work\n', '/s/1/fs')).toBe(false);
  });
});

describe('gcConsumerName', () => {
  it('is a valid JetStream consumer name per node', () => {
    expect(gcConsumerName('host-1.example.org')).toBe('rootfs-container-snapshot-gc-host-1_example_org');
    expect(gcConsumerName('a b*>')).toBe('rootfs-container-snapshot-gc-a_b__');
  });
});
