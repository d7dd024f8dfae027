import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { containersV1 } from '@berth/api';
import { InvalidConfigError, MemoryTooLowError } from '../errors';
import { buildSpec, linuxResources, memorySettings, processArgs, validateConfig, type SpecInputs } from './spec';
import { resolveUser } from './user';

const cfg = (p: Partial<containersV1.ContainerConfig>) => containersV1.ContainerConfig.fromPartial(p);
const hc = (p: Partial<containersV1.HostConfig>) => containersV1.HostConfig.fromPartial(p);
const res = (p: Partial<containersV1.Resources>) => containersV1.Resources.fromPartial(p);

function inputs(c: containersV1.ContainerConfig, h: containersV1.HostConfig): SpecInputs {
  return {
    id: 'a'.repeat(64), config: c, hostConfig: h, hostname: 'box', rootfsPath: '/b/rootfs', user: { uid: 0, gid: 0, additionalGids: [] },
    netnsPath: '/run/netns/x', hostnamePath: '/s/hostname', hostsPath: '/s/hosts', resolvConfPath: '/s/resolv.conf',
    initBinary: '/usr/bin/catatonit', hostLimits: new Map([['RLIMIT_NOFILE', 20000]]),
  };
}

describe('OCI spec', () => {
  it('joins a named network namespace, asks for a fresh one (none), or shares the host\'s', () => {
    const nets = (i: Partial<SpecInputs>) => (buildSpec({ ...inputs(cfg({}), hc({})), ...i }) as { linux: { namespaces: { type: string; path?: string }[] } })
      .linux.namespaces.filter((n) => n.type === 'network');
    expect(nets({})).toEqual([{ type: 'network', path: '/run/netns/x' }]);
    expect(nets({ netnsPath: undefined, newNetns: true })).toEqual([{ type: 'network' }]);
    expect(nets({ netnsPath: undefined })).toEqual([]);
  });

  it('joins entrypoint and cmd, adds PATH/HOSTNAME/TERM, and wraps in the init when asked', () => {
    const c = cfg({ entrypoint: ['/bin/sh', '-c'], cmd: ['echo hi'], env: ['A=1'], tty: true });
    expect(processArgs(c)).toEqual(['/bin/sh', '-c', 'echo hi']);
    const spec = buildSpec(inputs(c, hc({ init: true }))) as { process: { args: string[]; env: string[]; rlimits: unknown[] }; mounts: { destination: string }[] };
    expect(spec.process.args).toEqual(['/dev/init', '--', '/bin/sh', '-c', 'echo hi']);
    expect(spec.process.env).toEqual([expect.stringMatching(/^PATH=/), 'A=1', 'HOSTNAME=box', 'TERM=xterm']);
    expect(spec.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
    expect(spec.mounts.map((m) => m.destination)).toContain('/dev/init');
  });

  it('maps resources as docker does', () => {
    expect(memorySettings(res({ memory: 64 << 20 }))).toEqual({ limit: 64 << 20, swap: 128 << 20 });
    expect(memorySettings(res({ memory: 64 << 20, memorySwap: -1 }))).toEqual({ limit: 64 << 20, swap: -1 });
    expect(linuxResources(res({ cpuShares: 256, nanoCpus: 500_000_000, pidsLimit: 10 }))).toEqual({
      cpu: { shares: 256, period: 100000, quota: 50000 }, pids: { limit: 10 },
    });
    expect(linuxResources(res({ cpusetCpus: '0', cpusetMems: '0', memoryReservation: 1 << 20 }))).toEqual({
      cpu: { cpus: '0', mems: '0' }, memory: { reservation: 1 << 20 },
    });
    expect(linuxResources(res({ memory: 64 << 20, memoryReservation: 1 << 20 }))).toEqual({ memory: { limit: 64 << 20, swap: 128 << 20, reservation: 1 << 20 } });
  });

  it('refuses configs that would only fail later', () => {
    expect(() => validateConfig(cfg({}), hc({}))).toThrow(/no command specified/);
    expect(() => validateConfig(cfg({ cmd: ['x'] }), hc({ resources: res({ memory: 1000 }) }))).toThrow(MemoryTooLowError);
    expect(() => validateConfig(cfg({ cmd: ['x'] }), hc({ resources: res({ memory: 8 << 20, memorySwap: 4 << 20 }) }))).toThrow(/at least the memory/);
    expect(() => validateConfig(cfg({ cmd: ['x'], env: ['NOEQUALS'] }), hc({}))).toThrow(InvalidConfigError);
    expect(() => validateConfig(cfg({ cmd: ['x'] }), hc({ restartPolicy: { name: 'sometimes', maximumRetryCount: 0 } }))).toThrow(/restart policy/);
    expect(() => validateConfig(cfg({ cmd: ['x'] }), hc({ restartPolicy: { name: 'always', maximumRetryCount: 0 }, autoRemove: true }))).toThrow(/auto-remove/);
    expect(() => validateConfig(cfg({ cmd: ['x'] }), hc({ runtime: 'kata' }))).toThrow(/unknown runtime/);
  });

  it('resolves users and groups from the rootfs', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-users-'));
    try {
      fs.mkdirSync(path.join(root, 'etc'));
      fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nweb:x:33:33::/var/www:/bin/false\n');
      fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nwww:x:33:\nstaff:x:50:web\n');
      expect(resolveUser('', root)).toEqual({ uid: 0, gid: 0, additionalGids: [] });
      expect(resolveUser('web', root)).toEqual({ uid: 33, gid: 33, additionalGids: [50] });
      expect(resolveUser('web:staff', root)).toEqual({ uid: 33, gid: 50, additionalGids: [] });
      expect(resolveUser('1234:5', root)).toEqual({ uid: 1234, gid: 5, additionalGids: [] });
      expect(() => resolveUser('nobody', root)).toThrow(/unable to find user nobody/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
