// The lifecycle of the seed story through the real CLI: resources read back from inspect and the cgroup,
// stop sends SIGTERM to PID 1 (a trap in sh), kill -s, ps -a / -l, exec, enter, top, logs, pause, rm -f.
import * as fs from 'node:fs';
import { cleanContainers, startWorld, until, type World } from './harness';

let w: World;

beforeAll(async () => {
  w = await startWorld();
  expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
}, 60_000);

afterEach(() => cleanContainers(w));
afterAll(() => w?.teardown());

const TRAP = 'trap "echo got TERM; exit 0" TERM; trap "echo got USR1" USR1; echo ready; while true; do sleep 0.1; done';

async function logs(name: string): Promise<string> {
  return (await w.berth(['logs', name])).stdout;
}

describe('a detached container', () => {
  it('run -d --cpu-shares 256 --memory 64m: inspect and the cgroup agree', async () => {
    const r = await w.berth(['run', '-d', '--name', 'web', '--cpu-shares', '256', '--memory', '64m', 'busybox', 'sleep', '1000']);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const insp = await w.berth(['inspect', '--format', '{{.HostConfig.CpuShares}} {{.HostConfig.Memory}} {{.State.Status}}', 'web']);
    expect(insp).toEqual({ code: 0, stdout: '256 67108864 running\n', stderr: '' });
    expect(fs.readFileSync(`/sys/fs/cgroup/cpu/berth/${id}/cpu.shares`, 'utf8').trim()).toBe('256');
    expect(fs.readFileSync(`/sys/fs/cgroup/memory/berth/${id}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(64 * 1024 * 1024));
    // The container's data sits under <root>/supervisor/containers/<full id>.
    const logPath = (await w.berth(['inspect', '-f', '{{.LogPath}}', id.slice(0, 12)])).stdout.trim();
    expect(logPath).toBe(`${w.root}/supervisor/containers/${id}/ctr.log`);
    const pid = Number((await w.berth(['inspect', '-f', '{{.State.Pid}}', 'web'])).stdout);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');
    // update changes the live cgroup.
    expect((await w.berth(['update', '--memory', '128m', 'web'])).code).toBe(0);
    expect(fs.readFileSync(`/sys/fs/cgroup/memory/berth/${id}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(128 * 1024 * 1024));
  });

  it('--pids-limit, --cpus, --read-only, --init, --restart, --stop-signal, --label reach inspect, the cgroup and the process', async () => {
    const id = (await w.berth(['run', '-d', '--name', 'opts', '--pids-limit', '20', '--cpus', '0.5', '--read-only', '--init', '--restart', 'on-failure:2',
      '--stop-signal', 'SIGUSR1', '--stop-timeout', '3', '-l', 'tier=web', 'busybox', 'sleep', '1000'])).stdout.trim();
    const hc = JSON.parse((await w.berth(['inspect', '-f', '{{json .HostConfig}}', 'opts'])).stdout);
    expect(hc).toMatchObject({ PidsLimit: 20, NanoCpus: 500_000_000, ReadonlyRootfs: true, Init: true, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
    expect((await w.berth(['inspect', '-f', '{{.Config.StopSignal}} {{.Config.StopTimeout}} {{index .Config.Labels "tier"}}', 'opts'])).stdout).toBe('SIGUSR1 3 web\n');
    expect(fs.readFileSync(`/sys/fs/cgroup/pids/berth/${id}/pids.max`, 'utf8').trim()).toBe('20');
    expect(fs.readFileSync(`/sys/fs/cgroup/cpu/berth/${id}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('50000');
    const ex = await w.berth(['exec', 'opts', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; touch /x']);
    expect(ex.stdout).toBe('/dev/init -- sleep 1000 \n');
    expect(ex.stderr).toBe('touch: /x: Read-only file system\n');
    expect(ex.code).toBe(1);
  });

  it('-v binds a host directory (read-only with :ro), shown in inspect', async () => {
    const dir = fs.mkdtempSync(`${w.root}/vol-`);
    fs.writeFileSync(`${dir}/f`, 'from the host\n');
    expect((await w.berth(['run', '-d', '--name', 'vol', '-v', `${dir}:/data:ro`, 'busybox', 'sleep', '1000'])).code).toBe(0);
    expect(JSON.parse((await w.berth(['inspect', '-f', '{{json .Mounts}}', 'vol'])).stdout)).toEqual([
      { Type: 'bind', Source: dir, Destination: '/data', Mode: 'ro', RW: false, Propagation: 'rprivate' },
    ]);
    const ex = await w.berth(['exec', 'vol', 'sh', '-c', 'cat /data/f; touch /data/g']);
    expect(ex).toEqual({ code: 1, stdout: 'from the host\n', stderr: 'touch: /data/g: Read-only file system\n' });
  });

  it('stop sends SIGTERM to PID 1, seen by a trap in sh; kill -s sends any signal', async () => {
    expect((await w.berth(['run', '-d', '--name', 'trap', 'busybox', 'sh', '-c', TRAP])).code).toBe(0);
    await until(async () => (await logs('trap')).includes('ready'), 10_000, 'ready');
    expect(await w.berth(['kill', '-s', 'USR1', 'trap'])).toEqual({ code: 0, stdout: 'trap\n', stderr: '' });
    await until(async () => (await logs('trap')).includes('got USR1'), 10_000, 'USR1 trap');
    expect((await w.berth(['inspect', '-f', '{{.State.Running}}', 'trap'])).stdout).toBe('true\n');
    const t0 = Date.now();
    expect(await w.berth(['stop', '-t', '20', 'trap'])).toEqual({ code: 0, stdout: 'trap\n', stderr: '' });
    // The trap made it exit at once, long before the grace time would have killed it.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await logs('trap')).toBe('ready\ngot USR1\ngot TERM\n');
    expect((await w.berth(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'trap'])).stdout).toBe('exited 0\n');
    expect((await w.berth(['wait', 'trap'])).stdout).toBe('0\n');
  });

  it('ps lists running ones, ps -a the exited too, ps -l the last created, -q only ids', async () => {
    const a = (await w.berth(['run', '-d', '--name', 'first', 'busybox', 'sleep', '1000'])).stdout.trim();
    expect((await w.berth(['run', '--name', 'second', 'busybox', 'sh', '-c', 'exit 2'])).code).toBe(2);
    const ps = await w.berth(['ps']);
    const lines = ps.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^${a.slice(0, 12)}\\s+busybox\\s+"sleep 1000"\\s+.*Up .*first$`));
    const all = (await w.berth(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout;
    expect(all).toBe('second exited\nfirst running\n');
    const last = (await w.berth(['ps', '-l', '--format', '{{.Names}} {{.Status}}'])).stdout;
    expect(last).toMatch(/^second Exited \(2\) .*ago\n$/);
    expect((await w.berth(['ps', '-aq'])).stdout.trim().split('\n')).toHaveLength(2);
    expect((await w.berth(['ps', '-a', '--filter', 'status=exited', '-q'])).stdout.trim().split('\n')).toHaveLength(1);
    // rm refuses a running container without -f, and removes it with -f.
    const rm = await w.berth(['rm', 'first']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toMatch(/^Error: .*running.*\n$/);
    expect(await w.berth(['rm', '-f', 'first', 'second'])).toEqual({ code: 0, stdout: 'first\nsecond\n', stderr: '' });
    expect((await w.berth(['ps', '-aq'])).stdout).toBe('');
  });

  it('exec runs in the container (exit code, env, workdir); enter sees its hostname and processes; top lists them', async () => {
    const id = (await w.berth(['run', '-d', '--name', 'box', '--hostname', 'boxhost', 'busybox', 'sleep', '1000'])).stdout.trim();
    const ex = await w.berth(['exec', '-e', 'X=1', '-w', '/tmp', 'box', 'sh', '-c', 'echo $X $(pwd) $(hostname); exit 7']);
    expect(ex).toEqual({ code: 7, stdout: '1 /tmp boxhost\n', stderr: '' });
    expect((await w.berth(['exec', 'box', 'no-such-cmd'])).code).toBe(127);
    expect(await w.berth(['exec', '-i', 'box', 'cat'], { input: 'piped\n' })).toEqual({ code: 0, stdout: 'piped\n', stderr: '' });
    const en = await w.berth(['enter', 'box', 'sh', '-c', 'hostname; ps -o pid,args | awk \'$1 == 1\'; ls /sys/class/net']);
    expect(en.code).toBe(0);
    // Its own hostname, PID 1 of its pid namespace, and only its network namespace's loopback.
    expect(en.stdout).toMatch(/^boxhost\n\s*1 sleep 1000\nlo\n$/);
    const top = await w.berth(['top', 'box']);
    expect(top.code).toBe(0);
    expect(top.stdout.split('\n')[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(top.stdout).toContain('sleep 1000');
    expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('inspect -s adds SizeRw (the writable layer) and SizeRootFs (with the image layers)', async () => {
    expect((await w.berth(['run', '--name', 'sized', 'busybox', 'sh', '-c', 'head -c 300000 /dev/zero > /blob'])).code).toBe(0);
    const [rw, rootfs] = (await w.berth(['inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'sized'])).stdout.trim().split(' ').map(Number);
    expect(rw).toBeGreaterThanOrEqual(300_000);
    expect(rootfs).toBeGreaterThan(rw! + 1_000_000);
    const plain = JSON.parse((await w.berth(['container', 'inspect', 'sized'])).stdout) as Record<string, unknown>[];
    expect(plain[0]).not.toHaveProperty('SizeRw');
    expect(JSON.parse((await w.berth(['container', 'inspect', '-s', 'sized'])).stdout)[0].SizeRw).toBe(rw);
  });

  it('pause freezes, unpause thaws; logs -t --tail and diff', async () => {
    expect((await w.berth(['run', '-d', '--name', 'pz', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line$i; done; touch /made; sleep 1000'])).code).toBe(0);
    await until(async () => (await logs('pz')).includes('line3'), 10_000, 'output');
    expect((await w.berth(['pause', 'pz'])).code).toBe(0);
    expect((await w.berth(['inspect', '-f', '{{.State.Status}}', 'pz'])).stdout).toBe('paused\n');
    expect((await w.berth(['unpause', 'pz'])).code).toBe(0);
    expect((await w.berth(['inspect', '-f', '{{.State.Status}}', 'pz'])).stdout).toBe('running\n');
    expect((await w.berth(['logs', '--tail', '1', 'pz'])).stdout).toBe('line3\n');
    expect((await w.berth(['logs', '-t', '--tail', '2', 'pz'])).stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z line2\n\d{4}-\d\d-\d\dT[\d:.]+Z line3\n$/);
    expect((await w.berth(['diff', 'pz'])).stdout).toContain('A /made\n');
    expect((await w.berth(['rename', 'pz', 'qz'])).code).toBe(0);
    expect((await w.berth(['ps', '--format', '{{.Names}}'])).stdout).toBe('qz\n');
  });

  it('restart runs PID 1 again; start prints the name; cp copies both ways', async () => {
    expect((await w.berth(['run', '-d', '--name', 'rs', 'busybox', 'sleep', '1000'])).code).toBe(0);
    const pid1 = (await w.berth(['inspect', '-f', '{{.State.Pid}}', 'rs'])).stdout;
    expect(await w.berth(['restart', '-t', '1', 'rs'])).toEqual({ code: 0, stdout: 'rs\n', stderr: '' });
    const pid2 = (await w.berth(['inspect', '-f', '{{.State.Pid}} {{.State.Status}}', 'rs'])).stdout;
    expect(pid2).toMatch(/^\d+ running\n$/);
    expect(pid2.split(' ')[0]).not.toBe(pid1.trim());
    // cp: a host file in, a container directory out.
    const src = `${w.root}/in.txt`;
    fs.writeFileSync(src, 'copied in\n', { mode: 0o640 });
    expect((await w.berth(['cp', src, 'rs:/tmp/'])).code).toBe(0);
    expect((await w.berth(['exec', 'rs', 'sh', '-c', 'cat /tmp/in.txt; stat -c %a /tmp/in.txt'])).stdout).toBe('copied in\n640\n');
    const outDir = fs.mkdtempSync(`${w.root}/out-`);
    expect((await w.berth(['cp', 'rs:/etc', outDir])).code).toBe(0);
    expect(fs.readFileSync(`${outDir}/etc/hostname`, 'utf8')).toBe(`${(await w.berth(['inspect', '-f', '{{.Id}}', 'rs'])).stdout.slice(0, 12)}\n`);
    const missing = await w.berth(['cp', 'rs:/nope', outDir]);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'Error: Could not find the file /nope in container rs\n' });
    expect((await w.berth(['stop', '-t', '1', 'rs'])).code).toBe(0);
    expect(await w.berth(['start', 'rs'])).toEqual({ code: 0, stdout: 'rs\n', stderr: '' });
  });

  it('events for the container arrive on NATS and come back through events --since/--until', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const id = (await w.berth(['run', '--name', 'ev', 'busybox', 'true'])).stdout;
    expect(id).toBe('');
    expect((await w.berth(['rm', 'ev'])).code).toBe(0);
    const until = new Date(Date.now() + 1000).toISOString();
    const ev = await until_(() => w.berth(['events', '--since', since, '--until', until, '--filter', 'container=ev', '--format', '{{.Action}}']));
    const actions = ev.stdout.trim().split('\n');
    for (const a of ['create', 'start', 'die', 'destroy']) expect(actions).toContain(a);
    expect(actions.indexOf('create')).toBeLessThan(actions.indexOf('start'));
    expect(actions.indexOf('start')).toBeLessThan(actions.indexOf('die'));
  });
});

async function until_(fn: () => Promise<{ code: number | null; stdout: string; stderr: string }>) {
  // The --until time must have passed before the inspector closes the replay.
  await new Promise((r) => setTimeout(r, 1200));
  const r = await fn();
  expect(r.code).toBe(0);
  return r;
}
