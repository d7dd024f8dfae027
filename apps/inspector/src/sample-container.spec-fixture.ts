// A supervisor Container with every field set, for the unit specs.
import { containersV1 } from '@berth/api';

export function sampleContainer(extra: Partial<containersV1.Container> = {}): containersV1.Container {
  return containersV1.Container.fromPartial({
    id: 'a'.repeat(64),
    name: 'web',
    createdAt: new Date('2024-05-01T10:00:00.120Z'),
    config: {
      image: 'busybox:latest', imageId: 'sha256:' + 'c'.repeat(64), entrypoint: [], cmd: ['sleep', '1000'], env: ['PATH=/bin'],
      workingDir: '/', user: '', hostname: 'aaaaaaaaaaaa', labels: { tier: 'front' }, stopSignal: '', stopTimeout: 0, exposedPorts: ['80/tcp'],
    },
    hostConfig: {
      resources: { cpuShares: 512, memory: 64 * 1024 * 1024, memorySwap: -1, nanoCpus: 1_500_000_000, pidsLimit: 0 },
      volumes: [{ source: '/srv/data', destination: '/data', readOnly: false }, { source: '/etc/x', destination: '/x', readOnly: true }],
      ports: [{ hostIp: '127.0.0.1', hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
      networkMode: 'bridge', restartPolicy: { name: 'on-failure', maximumRetryCount: 3 }, init: true, readOnly: false, autoRemove: false,
    },
    state: { status: 'running', pid: 4242, exitCode: 0, startedAt: new Date('2024-05-01T10:00:01Z'), conmonPid: 4240 },
    rootfs: [{ type: 'overlay', source: 'overlay', target: '', options: ['index=off', 'workdir=/s/w', 'upperdir=/s/u', 'lowerdir=/l/1:/l/2'] }],
    snapshotKey: 'a'.repeat(64),
    stateDir: '/var/lib/berth/supervisor/containers/' + 'a'.repeat(64),
    logPath: '/logs/ctr.log',
    sandboxKey: '/run/netns/berth-aaaaaaaaaaaa',
    networks: [{ network: 'bridge', bridge: 'berth0', ipAddress: '10.88.0.5', ipPrefixLen: 16, gateway: '10.88.0.1', macAddress: '02:42:0a:58:00:05' }],
    ports: [{ hostIp: '127.0.0.1', hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
    hostnamePath: '/h', hostsPath: '/hosts', resolvConfPath: '/r',
    ...extra,
  });
}
