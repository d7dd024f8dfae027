import { containersV1 } from '@berth/api';
import { containerToDocker } from './container-json';
import { sampleContainer } from './sample-container.spec-fixture';

const m = (over: Partial<containersV1.VolumeMount>) => containersV1.VolumeMount.fromPartial(over);
const anon = 'b'.repeat(64);
const img = 'e'.repeat(64);

function doc(): Record<string, any> {
  const c = sampleContainer();
  c.config!.volumes = ['/var/lib/app'];
  c.hostConfig!.volumes = [
    m({ type: 'bind', source: '/srv/data', destination: '/data' }),
    m({ type: 'volume', source: 'named', destination: '/n', readOnly: true, volumePath: '/root/supervisor/volumes/named/_data' }),
    m({ type: 'volume', source: anon, destination: '/anon', anonymous: true, volumePath: `/root/supervisor/volumes/${anon}/_data` }),
    m({ type: 'volume', source: img, destination: '/var/lib/app', anonymous: true, fromImage: true, volumePath: `/root/supervisor/volumes/${img}/_data` }),
    m({ type: 'tmpfs', destination: '/t', tmpfsSize: 65536, tmpfsMode: 0o700, tmpfsOptions: ['exec'] }),
  ];
  return containerToDocker(c, { mergedDir: '', networkIds: new Map() }) as Record<string, any>;
}

it("shows volumes in Mounts as docker does (name, mountpoint, driver local, mode z)", () => {
  expect(doc().Mounts).toEqual([
    { Type: 'bind', Source: '/srv/data', Destination: '/data', Mode: '', RW: true, Propagation: 'rprivate' },
    { Type: 'volume', Name: 'named', Source: '/root/supervisor/volumes/named/_data', Destination: '/n', Driver: 'local', Mode: 'z', RW: false, Propagation: '' },
    { Type: 'volume', Name: anon, Source: `/root/supervisor/volumes/${anon}/_data`, Destination: '/anon', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    { Type: 'volume', Name: img, Source: `/root/supervisor/volumes/${img}/_data`, Destination: '/var/lib/app', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' },
  ]);
});

it('lists host paths and named volumes in HostConfig.Binds, tmpfs in HostConfig.Tmpfs, anonymous paths in Config.Volumes', () => {
  const d = doc();
  expect(d.HostConfig.Binds).toEqual(['/srv/data:/data', 'named:/n:ro']);
  expect(d.HostConfig.Tmpfs).toEqual({ '/t': 'size=65536,mode=700,exec' });
  expect(d.Config.Volumes).toEqual({ '/var/lib/app': {}, '/anon': {} });
});

it('keeps null Binds and Config.Volumes and no Tmpfs when there are none', () => {
  const c = sampleContainer();
  c.hostConfig!.volumes = [];
  const d = containerToDocker(c, { mergedDir: '', networkIds: new Map() }) as Record<string, any>;
  expect(d.HostConfig.Binds).toBeNull();
  expect(d.Config.Volumes).toBeNull();
  expect('Tmpfs' in d.HostConfig).toBe(false);
  expect(d.Mounts).toEqual([]);
});
