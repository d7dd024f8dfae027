import { MediaType } from '@berth/oci';
import { parseConfig, parseIndex, parseManifest, selectPlatform } from './manifests';

const d = (c: string) => 'sha256:' + c.repeat(64);
const manifest = (over: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: d('a'), size: 10 },
      layers: [{ mediaType: MediaType.DockerLayerGzip, digest: d('b'), size: 20 }],
      ...over,
    }),
  );

describe('manifest parsing', () => {
  it('accepts OCI and Docker manifests', () => {
    expect(parseManifest('m', manifest()).layers[0]!.digest).toBe(d('b'));
    expect(parseManifest('m', manifest({ mediaType: MediaType.DockerManifest, config: { mediaType: MediaType.DockerConfig, digest: d('a'), size: 1 } })).mediaType).toBe(MediaType.DockerManifest);
  });
  it('names what is wrong', () => {
    expect(() => parseManifest('m', Buffer.from('{'))).toThrow(/m is not valid JSON/);
    expect(() => parseManifest('m', manifest({ schemaVersion: 1 }))).toThrow(/schemaVersion 1 is not 2/);
    expect(() => parseManifest('m', manifest({ mediaType: 'text/plain' }))).toThrow(/m: unsupported media type "text\/plain"/);
    expect(() => parseManifest('m', manifest({ layers: [{ mediaType: 'x/y', digest: d('b'), size: 1 }] }))).toThrow(/m layer 0: unsupported media type "x\/y"/);
    expect(() => parseManifest('m', manifest({ layers: [{ mediaType: MediaType.OciLayer, digest: 'md5:x', size: 1 }] }))).toThrow(/"md5:x" is not a sha256 digest/);
    expect(() => parseManifest('m', manifest({ layers: [{ mediaType: MediaType.OciLayer, digest: d('c'), size: -1 }] }))).toThrow(/size -1 is invalid/);
    expect(() => parseManifest('m', Buffer.alloc(4 * 1024 * 1024 + 1, 0x20))).toThrow(/larger than the 4194304-byte cap/);
  });
  it('checks diff ids against the layer count', () => {
    const cfg = (ids: string[]) => Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ids } }));
    expect(parseConfig('c', cfg([d('1')]), 1).rootfs.diff_ids).toEqual([d('1')]);
    expect(() => parseConfig('c', cfg([d('1')]), 2)).toThrow(/c lists 1 diff ids for 2 layers/);
    expect(() => parseConfig('c', cfg(['nope']))).toThrow(/diff id "nope" is not a sha256 digest/);
  });
});

describe('platform selection', () => {
  const index = parseIndex(
    'i',
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          { mediaType: MediaType.OciManifest, digest: d('1'), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          { mediaType: MediaType.OciManifest, digest: d('2'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: MediaType.OciManifest, digest: d('3'), size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
        ],
      }),
    ),
  );
  it('picks linux/amd64 and honours a requested platform', () => {
    expect(selectPlatform('i', index, { os: 'linux', architecture: 'amd64' }).digest).toBe(d('2'));
    expect(selectPlatform('i', index, { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest).toBe(d('1'));
    expect(() => selectPlatform('i', index, { os: 'linux', architecture: 's390x' })).toThrow(/i: no manifest for platform linux\/s390x/);
  });
});
