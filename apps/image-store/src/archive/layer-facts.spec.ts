import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { compress } from 'zstd-napi';
import { LayerFacts } from './layer-facts';

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function facts(blob: Buffer, chunk = 1000) {
  const f = new LayerFacts();
  for (let i = 0; i < blob.length; i += chunk) await f.push(blob.subarray(i, i + chunk));
  return f.finish(sha(blob));
}

describe('LayerFacts', () => {
  const tar = Buffer.alloc(300_000);
  for (let i = 0; i < tar.length; i++) tar[i] = (i * 31) % 251;

  it('learns the diff id of uncompressed, gzip and zstd layers', async () => {
    expect(await facts(tar)).toEqual({ compression: 'none', diffId: sha(tar), uncompressedSize: tar.length });
    expect(await facts(zlib.gzipSync(tar))).toEqual({ compression: 'gzip', diffId: sha(tar), uncompressedSize: tar.length });
    expect(await facts(compress(tar), 7)).toEqual({ compression: 'zstd', diffId: sha(tar), uncompressedSize: tar.length });
  });
  it('reports a stream that does not decompress instead of throwing', async () => {
    const bad = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(100, 1)]);
    const f = await facts(bad);
    expect(f.compression).toBe('gzip');
    expect(f.diffId).toBeUndefined();
    expect(f.error).toMatch(/header|check|method/i);
  });
  it('handles blobs shorter than the magic', async () => {
    expect(await facts(Buffer.from('ab'))).toEqual({ compression: 'none', diffId: sha(Buffer.from('ab')), uncompressedSize: 2 });
  });
});
