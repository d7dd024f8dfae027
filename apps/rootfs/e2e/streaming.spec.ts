// Unpack streams: a layer far bigger than the memory it may use goes through with a flat RSS.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeFixture, type Fixture } from './helpers';

const SIZE_MB = 128;

describe('streaming unpack', () => {
  let f: Fixture;
  beforeEach(() => {
    f = makeFixture('overlay');
  });
  afterEach(() => f.cleanup());

  test(`a ${SIZE_MB} MiB file in a gzip layer unpacks with bounded memory and the right bytes`, async () => {
    const src = path.join(f.base, 'src');
    fs.mkdirSync(src);
    execFileSync('truncate', ['-s', `${SIZE_MB}M`, path.join(src, 'big')]);
    const tarFile = path.join(f.base, 'layer.tar');
    execFileSync('tar', ['--numeric-owner', '-C', src, '-cf', tarFile, 'big']);
    const diffId = 'sha256:' + execFileSync('sha256sum', [tarFile]).toString().split(' ')[0];
    execFileSync('gzip', ['-1', tarFile]);
    const blob = fs.readFileSync(tarFile + '.gz');
    const digest = 'sha256:' + execFileSync('sha256sum', [tarFile + '.gz']).toString().split(' ')[0];
    fs.writeFileSync(path.join(f.blobsDir, digest.slice(7)), blob);
    fs.rmSync(tarFile + '.gz');
    fs.rmSync(src, { recursive: true });

    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      const res = await f.unpacker.unpack([{ digest, diffId }]);
      const file = path.join((await f.sn.stat(res.chainId)).layerDir, 'big');
      expect(fs.statSync(file).size).toBe(SIZE_MB * 1024 * 1024);
    } finally {
      clearInterval(timer);
    }
    // The blob is ~130 KiB and the file 128 MiB: whatever is held at once must stay far below that.
    expect((peak - before) / 2 ** 20).toBeLessThan(64);
  });
});
