import { containersV1 } from '@berth/api';
import { InvalidMountError, InvalidVolumeNameError } from './errors';
import { emptyMount, ociMounts, tmpfsOptions, validateMounts } from './container-mounts';

const m = (over: Partial<containersV1.VolumeMount>) => emptyMount(over);

describe('validateMounts', () => {
  it('infers docker types and cleans destinations', () => {
    const got = validateMounts([m({ source: '/h', destination: '/a/' }), m({ source: 'data', destination: '/b//c' }), m({ destination: '/d' })]);
    expect(got.map((x) => [x.type, x.destination])).toEqual([['bind', '/a'], ['volume', '/b/c'], ['volume', '/d']]);
  });
  it('refuses what docker refuses, naming it', () => {
    expect(() => validateMounts([m({ source: 'vv', destination: 'rel' })])).toThrow(/destination "rel" is not an absolute path/);
    expect(() => validateMounts([m({ source: 'vv', destination: '/' })])).toThrow(InvalidMountError);
    expect(() => validateMounts([m({ source: 'vv', destination: '/x' }), m({ source: 'ww', destination: '/x/' })])).toThrow(/duplicate mount point: \/x/);
    expect(() => validateMounts([m({ type: 'nfs', destination: '/x' })])).toThrow(/invalid mount type "nfs"/);
    expect(() => validateMounts([m({ source: 'a b', destination: '/x' })])).toThrow(InvalidVolumeNameError);
    expect(() => validateMounts([m({ type: 'bind', source: 'rel', destination: '/x' })])).toThrow(/bind source "rel"/);
    expect(() => validateMounts([m({ type: 'tmpfs', destination: '/x', tmpfsOptions: ['size=big'] })])).toThrow(/invalid tmpfs option "size=big"/);
    expect(() => validateMounts([m({ type: 'tmpfs', destination: '/x', tmpfsMode: 0o17777 })])).toThrow(/tmpfs mode/);
    expect(() => validateMounts([m({ type: 'tmpfs', destination: '/x', tmpfsSize: -1 })])).toThrow(/negative/);
    expect(() => validateMounts([m({ source: '/h', destination: '/x', noCopy: true })])).toThrow(/volume-nocopy given for the bind mount/);
    expect(() => validateMounts([m({ source: 'vv', destination: '/x', tmpfsSize: 10 })])).toThrow(/tmpfs options given for the volume mount/);
  });
});

describe('tmpfsOptions', () => {
  it("uses docker's defaults", () => {
    expect(tmpfsOptions(m({ type: 'tmpfs', destination: '/t' }))).toEqual(['nosuid', 'nodev', 'noexec', 'mode=1777', 'rw']);
  });
  it('honours size, mode, exec and read-only', () => {
    expect(tmpfsOptions(m({ type: 'tmpfs', destination: '/t', tmpfsSize: 65536, tmpfsMode: 0o700, tmpfsOptions: ['exec', 'uid=1000', 'ro'] })))
      .toEqual(['nosuid', 'nodev', 'exec', 'uid=1000', 'size=65536', 'mode=700', 'ro']);
  });
});

describe('ociMounts', () => {
  it('mounts parents before children, volumes from their data dir', () => {
    const got = ociMounts([m({ type: 'volume', source: 'v', destination: '/a/b', readOnly: true }), m({ type: 'bind', source: '/h', destination: '/a' })], (n) => `/vols/${n}/_data`);
    expect(got).toEqual([
      { destination: '/a', type: 'bind', source: '/h', options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/a/b', type: 'bind', source: '/vols/v/_data', options: ['rbind', 'rprivate', 'ro'] },
    ]);
  });
});
