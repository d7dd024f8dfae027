import { containersV1 } from '@berth/api';
import { mountsFrom, parseVolumesFrom } from './volumes-from';

const ctr = (volumes: Partial<containersV1.VolumeMount>[]) =>
  containersV1.Container.fromPartial({ hostConfig: containersV1.HostConfig.fromPartial({ volumes: volumes.map((v) => containersV1.VolumeMount.fromPartial(v)) }) });

describe('--volumes-from', () => {
  it('parses CONTAINER[:ro|:rw] and refuses anything else', () => {
    expect(parseVolumesFrom('db')).toEqual({ ref: 'db', mode: '' });
    expect(parseVolumesFrom('db:ro')).toEqual({ ref: 'db', mode: 'ro' });
    for (const bad of ['', ':ro', 'db:rx', 'db:ro:z']) expect(() => parseVolumesFrom(bad)).toThrow(/invalid --volumes-from/);
  });

  it('takes volumes and binds, not tmpfs; own paths and earlier entries win; the mode overrides', () => {
    const others: Record<string, containersV1.Container> = {
      a: ctr([
        { type: 'volume', source: 'v1', destination: '/data', readOnly: true, anonymous: true },
        { type: 'bind', source: '/srv', destination: '/srv' },
        { type: 'tmpfs', destination: '/run' },
        { type: 'volume', source: 'mine', destination: '/own' },
      ]),
      b: ctr([{ type: 'volume', source: 'v2', destination: '/data' }, { type: 'volume', source: 'v3', destination: '/more' }]),
    };
    const own = [containersV1.VolumeMount.fromPartial({ source: 'x', destination: '/own/' })];
    const got = mountsFrom(['a', 'b:rw'], own, (ref) => others[ref]!);
    expect(got.map((m) => [m.source, m.destination, m.type, m.readOnly, m.anonymous])).toEqual([
      ['v1', '/data', 'volume', true, false],
      ['/srv', '/srv', 'bind', false, false],
      ['v3', '/more', 'volume', false, false],
    ]);
    expect(mountsFrom(['a:rw'], [], (ref) => others[ref]!)[0]!.readOnly).toBe(false);
  });
});
