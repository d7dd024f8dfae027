// The test images are real and reproducible: the same bytes (so the same digests) every time they are made.
import * as tar from 'tar-stream';
import { Readable } from 'node:stream';
import { busyboxImage, dockerArchive, ociArchive, sha256 } from './test-images';

async function entries(archive: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c) => void chunks.push(c as Buffer));
    stream.on('end', () => {
      out.set(header.name, Buffer.concat(chunks));
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => extract.on('finish', () => resolve()).on('error', reject));
  Readable.from(archive).pipe(extract);
  await done;
  return out;
}

describe('test images', () => {
  it('have deterministic digests', async () => {
    const a = await busyboxImage('busybox:latest', 'gzip');
    const b = await busyboxImage('busybox:latest', 'gzip');
    expect(a.manifestDigest).toBe(b.manifestDigest);
    expect(a.layers[0]!.diffId).toBe(b.layers[0]!.diffId);
    expect(sha256(await dockerArchive([a]))).toBe(sha256(await dockerArchive([b])));
    expect(sha256(await ociArchive([a]))).toBe(sha256(await ociArchive([b])));
  });

  it('hold the host busybox with an applet link per command', async () => {
    const img = await busyboxImage();
    const files = await entries(img.layers[0]!.tar);
    expect(files.has('bin/busybox')).toBe(true);
    expect(files.has('bin/sh')).toBe(true);
    expect(JSON.parse(img.config.toString()).rootfs.diff_ids).toEqual([img.layers[0]!.diffId]);
  });

  it('write docker save and OCI layout archives with every digest right', async () => {
    const img = await busyboxImage('busybox:1.0', 'gzip');
    const docker = await entries(await dockerArchive([img]));
    const manifest = JSON.parse(docker.get('manifest.json')!.toString());
    expect(manifest[0].RepoTags).toEqual(['busybox:1.0']);
    expect(sha256(docker.get(manifest[0].Layers[0])!)).toBe(img.layers[0]!.diffId);
    const oci = await entries(await ociArchive([img]));
    const index = JSON.parse(oci.get('index.json')!.toString());
    expect(index.manifests[0].digest).toBe(img.manifestDigest);
    for (const [name, data] of oci) {
      if (name.startsWith('blobs/sha256/') && data.length) expect(sha256(data)).toBe('sha256:' + name.slice('blobs/sha256/'.length));
    }
  });
});
