import * as fs from 'node:fs';
import * as path from 'node:path';
import { FailedPreconditionError } from '@berth/service-kit';
import { makeFixture, type Fixture } from './helpers';
import { snapshotterConformance } from './snapshotter-suite';

snapshotterConformance('overlay');

describe('overlay snapshotter limits', () => {
  let f: Fixture;
  beforeEach(() => {
    f = makeFixture('overlay');
  });
  afterEach(() => f.cleanup());

  test('the deepest chain Prepare accepts mounts for real; one layer more is refused clearly', async () => {
    let parent = '';
    let refused: unknown;
    for (let depth = 0; !refused; depth++) {
      refused = await f.sn.prepare(`active-${depth}`, parent).then(() => undefined, (e: unknown) => e);
      if (refused) break;
      fs.writeFileSync(path.join(await f.sn.contentDir(`active-${depth}`), `file-${depth}`), String(depth));
      await f.sn.commit(`layer-${depth}`, `active-${depth}`);
      parent = `layer-${depth}`;
    }
    expect(refused).toBeInstanceOf(FailedPreconditionError);
    expect((refused as Error).message).toMatch(/has \d+ layers: .* more than mount\(2\) accepts/);
    const depth = (await f.sn.list()).length;
    // The temp root's paths are long; under /var/lib/berth about 100 layers fit.
    expect(depth).toBeGreaterThan(50);
    await f.sn.remove(parent);
    parent = `layer-${depth - 2}`;
    const root = f.mount(await f.sn.prepare('deepest', parent));
    expect(fs.readdirSync(root).length).toBe(depth - 1);
    fs.writeFileSync(path.join(root, 'top'), 'x');
  });
});
