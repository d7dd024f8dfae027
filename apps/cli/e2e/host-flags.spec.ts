// docker's security and host-file flags through the real CLI: what the container sees, what inspect shows,
// and bad values refused with exit 125 before anything is made.
import * as fs from 'node:fs';
import { wholeDiskOf } from '@berth/testing';
import { cleanContainers, startWorld, type World } from './harness';

jest.setTimeout(60_000);

let w: World;

beforeAll(async () => {
  w = await startWorld();
  expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
}, 60_000);

afterEach(() => cleanContainers(w));
afterAll(() => w?.teardown());

const run = (flags: string[], script: string) => w.berth(['run', '--rm', '--network', 'none', ...flags, 'busybox', 'sh', '-c', script]);

describe('run with security flags', () => {
  it('--cap-drop ALL --cap-add chown: PID 1 holds CAP_CHOWN only', async () => {
    expect(await run(['--cap-drop', 'ALL', '--cap-add', 'chown'], 'grep CapEff /proc/self/status')).toEqual({ code: 0, stdout: 'CapEff:\t0000000000000001\n', stderr: '' });
  });

  it('--security-opt no-new-privileges sets NoNewPrivs', async () => {
    expect(await run(['--security-opt', 'no-new-privileges'], 'grep NoNewPrivs /proc/self/status')).toEqual({ code: 0, stdout: 'NoNewPrivs:\t1\n', stderr: '' });
    expect(await run([], 'grep NoNewPrivs /proc/self/status')).toEqual({ code: 0, stdout: 'NoNewPrivs:\t0\n', stderr: '' });
  });

  it('--privileged may mount inside the container', async () => {
    expect(await run(['--privileged'], 'mkdir -p /tmp/m && mount -t tmpfs t /tmp/m && echo ok')).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
  });

  it('--ulimit, --sysctl and --shm-size', async () => {
    const r = await run(['--ulimit', 'nofile=512:1024', '--sysctl', 'kernel.shmmni=1234', '--shm-size', '32m'],
      'ulimit -Sn; ulimit -Hn; cat /proc/sys/kernel/shmmni; grep " /dev/shm " /proc/mounts | grep -o "size=[0-9a-z]*"');
    expect(r).toEqual({ code: 0, stdout: '512\n1024\n1234\nsize=32768k\n', stderr: '' });
  });

  it('--dns, --dns-search, --dns-option and --add-host write the container\'s files', async () => {
    const r = await run(['--dns', '192.0.2.53', '--dns-search', 'corp.example', '--dns-option', 'ndots:2', '--add-host', 'db:10.1.2.3'], 'cat /etc/resolv.conf; grep -w db /etc/hosts');
    expect(r).toEqual({ code: 0, stdout: 'nameserver 192.0.2.53\nsearch corp.example\noptions ndots:2\n10.1.2.3\tdb\n', stderr: '' });
  });

  it('--device, --pid host, --group-add, --oom-score-adj and --cpuset-cpus', async () => {
    const r = await run(['--device', '/dev/fuse:/dev/f:r', '--pid', 'host', '--group-add', 'daemon', '--oom-score-adj', '300', '--cpuset-cpus', '0'],
      'test -c /dev/f && echo dev; cat /proc/1/comm; id -G; cat /proc/self/oom_score_adj; grep Cpus_allowed_list /proc/self/status');
    const hostInit = fs.readFileSync('/proc/1/comm', 'utf8');
    expect(r).toEqual({ code: 0, stdout: `dev\n${hostInit}0 1\n300\nCpus_allowed_list:\t0\n`, stderr: '' });
  });

  it('update --cpuset-cpus and --memory-reservation change a running container', async () => {
    expect((await w.berth(['run', '-d', '--name', 'upd', '--cpuset-cpus', '0', 'busybox', 'sleep', '1000'])).code).toBe(0);
    expect(await w.berth(['update', '--cpuset-cpus', '0-1', '--memory-reservation', '16m', 'upd'])).toEqual({ code: 0, stdout: 'upd\n', stderr: '' });
    const r = await w.berth(['exec', 'upd', 'grep', 'Cpus_allowed_list', '/proc/1/status']);
    expect(r.stdout).toBe('Cpus_allowed_list:\t0-1\n');
    expect((await w.berth(['inspect', '--format', '{{.HostConfig.CpusetCpus}} {{.HostConfig.MemoryReservation}}', 'upd'])).stdout).toBe('0-1 16777216\n');
  });

  it('--cpu-period/--cpu-quota, --memory-swappiness, --device-write-bps and --domainname; update --cpu-quota', async () => {
    const disk = wholeDiskOf('/').path.slice('/dev/'.length);
    const flags = ['--cpu-period', '50000', '--cpu-quota', '25000', '--memory-swappiness', '10', '--device-write-bps', `/dev/${disk}:1mb`, '--domainname', 'corp.test'];
    expect((await w.berth(['run', '-d', '--name', 'lim', ...flags, 'busybox', 'sleep', '1000'])).code).toBe(0);
    expect((await w.berth(['exec', 'lim', 'cat', '/proc/sys/kernel/domainname'])).stdout).toBe('corp.test\n');
    const id = (await w.berth(['inspect', '--format', '{{.Id}}', 'lim'])).stdout.trim();
    const cg = (ctrl: string, file: string) => fs.readFileSync(`/sys/fs/cgroup/${ctrl}/berth/${id}/${file}`, 'utf8').trim();
    expect([cg('cpu', 'cpu.cfs_period_us'), cg('cpu', 'cpu.cfs_quota_us'), cg('memory', 'memory.swappiness')]).toEqual(['50000', '25000', '10']);
    expect(cg('blkio', 'blkio.throttle.write_bps_device')).toMatch(/^\d+:\d+ 1048576$/);
    expect(await w.berth(['update', '--cpu-quota', '30000', 'lim'])).toEqual({ code: 0, stdout: 'lim\n', stderr: '' });
    expect(cg('cpu', 'cpu.cfs_quota_us')).toBe('30000');
    const shown = await w.berth(['inspect', '--format', '{{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}} {{.HostConfig.MemorySwappiness}} {{json .HostConfig.BlkioDeviceWriteBps}} {{.Config.Domainname}}', 'lim']);
    expect(shown.stdout).toBe(`50000 30000 10 [{"Path":"/dev/${disk}","Rate":1048576}] corp.test\n`);
  });

  it('inspect shows them under HostConfig', async () => {
    expect((await w.berth(['create', '--name', 'sec', '--cap-add', 'NET_ADMIN', '--ulimit', 'nproc=100', '--add-host', 'db:10.0.0.5', 'busybox', 'true'])).code).toBe(0);
    const r = await w.berth(['inspect', '--format', '{{json .HostConfig.CapAdd}} {{json .HostConfig.Ulimits}} {{json .HostConfig.ExtraHosts}}', 'sec']);
    expect(r).toEqual({ code: 0, stdout: '["NET_ADMIN"] [{"Name":"nproc","Soft":100,"Hard":100}] ["db:10.0.0.5"]\n', stderr: '' });
  });
});

describe('bad values', () => {
  it.each([
    [['--ulimit', 'nofile'], /invalid --ulimit "nofile"/],
    [['--security-opt', 'seccomp=/tmp/profile.json'], /berth applies no seccomp profile/],
    [['--shm-size', 'lots'], /invalid --shm-size "lots"/],
    [['--cap-add', 'FLY'], /unknown capability "FLY"/],
    [['--sysctl', 'vm.swappiness=1'], /not namespaced/],
    [['--add-host', 'db:nowhere'], /invalid extra host "db:nowhere"/],
    [['--device', 'fuse'], /invalid --device "fuse"/],
    [['--device', '/dev/nope'], /adding custom device "\/dev\/nope"/],
    [['--pid', 'bogus'], /invalid --pid "bogus"/],
    [['--cpuset-cpus', '0-64'], /not available/],
    [['--cpus', '1', '--cpu-quota', '50000'], /--cpus and --cpu-period\/--cpu-quota cannot both be set/],
    [['--memory-swappiness', '200'], /memory-swappiness 200 is outside 0\.\.100/],
    [['--device-read-bps', '/dev/null:1mb'], /not a block device/],
    [['--device-read-iops', '/dev/sda'], /invalid --device-read-iops "\/dev\/sda"/],
  ])('%j: exit 125, one line, no container', async (flags, message) => {
    const r = await w.berth(['run', '--rm', ...flags, 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect((await w.berth(['ps', '-aq'])).stdout).toBe('');
  });
});
