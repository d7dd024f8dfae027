import { containersV1 } from '@berth/api';
import { sampleContainer } from './sample-container.spec-fixture';
import { containerToDocker, overlayOptions } from './container-json';

describe('containerToDocker', () => {
  const facts = { mergedDir: '/run/b/aaa/rootfs', networkIds: new Map([['bridge', 'n'.repeat(64)]]) };

  it('uses docker inspect field names and shapes', () => {
    const d = containerToDocker(sampleContainer(), facts) as any;
    expect(d.Id).toBe('a'.repeat(64));
    expect(d.Name).toBe('/web');
    expect(d.Created).toBe('2024-05-01T10:00:00.12Z');
    expect([d.Path, d.Args]).toEqual(['sleep', ['1000']]);
    expect(d.State).toEqual({
      Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 4242, ExitCode: 0, Error: '',
      StartedAt: '2024-05-01T10:00:01Z', FinishedAt: '0001-01-01T00:00:00Z',
    });
    expect(d.Image).toBe('sha256:' + 'c'.repeat(64));
    expect(d.Driver).toBe('overlay');
    expect(d.GraphDriver).toEqual({ Name: 'overlay', Data: { LowerDir: '/l/1:/l/2', UpperDir: '/s/u', WorkDir: '/s/w', MergedDir: '/run/b/aaa/rootfs' } });
    expect(d.Mounts).toEqual([
      { Type: 'bind', Source: '/srv/data', Destination: '/data', Mode: '', RW: true, Propagation: 'rprivate' },
      { Type: 'bind', Source: '/etc/x', Destination: '/x', Mode: 'ro', RW: false, Propagation: 'rprivate' },
    ]);
    expect(d.HostConfig).toMatchObject({
      CpuShares: 512, Memory: 67108864, MemorySwap: -1, NanoCpus: 1500000000, PidsLimit: null, Binds: ['/srv/data:/data', '/etc/x:/x:ro'],
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] }, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
      NetworkMode: 'bridge', Init: true, ReadonlyRootfs: false, AutoRemove: false,
    });
    expect(d.Config).toMatchObject({ Hostname: 'aaaaaaaaaaaa', Cmd: ['sleep', '1000'], Entrypoint: null, Image: 'busybox:latest', ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGTERM', StopTimeout: 10, Labels: { tier: 'front' } });
    expect(d.NetworkSettings).toMatchObject({
      Bridge: 'berth0', SandboxKey: '/run/netns/berth-aaaaaaaaaaaa', IPAddress: '10.88.0.5', IPPrefixLen: 16, Gateway: '10.88.0.1', MacAddress: '02:42:0a:58:00:05',
      Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] },
      Networks: { bridge: { IPAddress: '10.88.0.5', IPPrefixLen: 16, Gateway: '10.88.0.1', MacAddress: '02:42:0a:58:00:05', NetworkID: 'n'.repeat(64) } },
    });
    expect(d.Berth).toMatchObject({ StateDir: sampleContainer().stateDir, SnapshotKey: 'a'.repeat(64), ConmonPid: 4240 });
  });

  it('shows an exited container without pids, and "none" as a network of its own', () => {
    const c = sampleContainer({
      networks: [], ports: [], sandboxKey: '',
      state: containersV1.ContainerState.fromPartial({ status: 'exited', pid: 0, exitCode: 3, startedAt: new Date('2024-05-01T10:00:01Z'), finishedAt: new Date('2024-05-01T10:00:05.5Z') }),
    });
    c.hostConfig!.networkMode = 'none';
    const d = containerToDocker(c, { mergedDir: '', networkIds: new Map() }) as any;
    expect(d.State).toMatchObject({ Status: 'exited', Running: false, Pid: 0, ExitCode: 3, FinishedAt: '2024-05-01T10:00:05.5Z' });
    expect(d.Berth.ConmonPid).toBe(0);
    expect(d.HostConfig.MemorySwap).toBe(-1);
    c.hostConfig!.resources!.memorySwap = 0;
    expect((containerToDocker(c, { mergedDir: '', networkIds: new Map() }) as any).HostConfig.MemorySwap).toBe(128 * 1024 * 1024);
    expect(d.NetworkSettings.Networks).toEqual({ none: expect.objectContaining({ IPAddress: '', NetworkID: '' }) });
    expect(d.NetworkSettings.Ports).toEqual({ '80/tcp': null });
  });

  it('shows a port published on every address as 0.0.0.0 where it is bound, as asked in PortBindings', () => {
    const c = sampleContainer({ ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
    c.hostConfig!.ports = [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }];
    const d = containerToDocker(c, { mergedDir: '', networkIds: new Map() }) as any;
    expect(d.NetworkSettings.Ports).toEqual({ '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] });
    expect(d.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  });

  it('reads the overlay options of the root mount', () => {
    expect(overlayOptions([{ type: 'bind', source: '/x', target: 'x', options: ['rbind'] }, { type: 'overlay', source: 'overlay', target: '', options: ['lowerdir=/a', 'upperdir=/b'] }]))
      .toEqual({ lowerdir: '/a', upperdir: '/b' });
  });
});
