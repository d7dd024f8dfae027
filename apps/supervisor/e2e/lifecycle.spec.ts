// Real containers under conmon + crun on the busybox rootfs: run, exit codes, failures, cgroups.
import * as fs from 'node:fs';
import { containersV1 } from '@berth/api';
import { makeHarness, logLines, until, type Harness } from './harness';
import { LocalNetworkProvider } from '../src/local-network';
import { StartFailedError, NameInUseError, InvalidNameError, VolumeSourceMissingError, MemoryTooLowError, NotRunningError,
  RunningDeleteError, ContainerNotFoundError, AmbiguousContainerRefError } from '../src/errors';

jest.setTimeout(60_000);

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.teardown();
});

describe('run to completion', () => {
  it('runs echo, records exit 0 and the log, and publishes create/start/die', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'echo hello; echo oops >&2'], {}, {}, 'echoer'));
    expect(c.state!.status).toBe('created');
    expect(fs.existsSync(`${c.stateDir}/config.json`)).toBe(true);
    await h.mgr.start('echoer');
    expect(await h.mgr.wait(c.id)).toBe(0);
    const got = h.mgr.get(c.id);
    expect(got.state!.status).toBe('exited');
    expect(got.state!.finishedAt!.getTime()).toBeGreaterThanOrEqual(got.state!.startedAt!.getTime());
    expect(logLines(got.logPath)).toEqual([
      { stream: 'stdout', text: 'hello' },
      { stream: 'stderr', text: 'oops' },
    ]);
    expect(h.sink.topics(c.id)).toEqual(['container.create', 'container.start', 'container.die']);
    expect(h.sink.events.find((e) => e.topic === 'container.die')!.attributes.exitCode).toBe('0');
  });

  it('wait on a container that already exited still returns only after its release (network, mounts)', async () => {
    // A teardown slow enough that the exit is recorded well before the release ends.
    let released = false;
    class SlowTeardown extends LocalNetworkProvider {
      override async teardown(id: string): Promise<void> {
        await new Promise((r) => setTimeout(r, 400));
        await super.teardown(id);
        released = true;
      }
    }
    await h.teardown();
    h = await makeHarness({ network: new SlowTeardown() });
    const c = await h.mgr.create(h.req(['true']));
    await h.mgr.start(c.id);
    await until(() => h.mgr.get(c.id).state!.status === 'exited', 5000, 'exit recorded');
    expect(released).toBe(false);
    expect(await h.mgr.wait(c.id)).toBe(0);
    expect(released).toBe(true);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(h.mgr.paths(c.id).rootfs);
  });

  it('reports exit codes and can start again', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'exit 42']));
    await h.mgr.start(c.id);
    expect(await h.mgr.wait(c.id)).toBe(42);
    await h.mgr.start(c.id);
    expect(await h.mgr.wait(c.id)).toBe(42);
    expect(h.mgr.get(c.id).state!.exitCode).toBe(42);
  });

  it('a missing command exits 127 with the runtime message and leaves nothing mounted', async () => {
    const c = await h.mgr.create(h.req(['/nonexistent']));
    const err = await h.mgr.start(c.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartFailedError);
    expect((err as Error).message).toMatch(/nonexistent.*(not found|No such file)/);
    const st = h.mgr.get(c.id).state!;
    expect(st.status).toBe('exited');
    expect(st.exitCode).toBe(127);
    expect(st.error).toMatch(/nonexistent/);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(h.mgr.paths(c.id).rootfs);
  });

  it('runs the hostname, user, cwd and env it was given', async () => {
    const c = await h.mgr.create(h.req(['sh', '-c', 'echo $(hostname) $(id -u):$(id -g) $(pwd) $FOO'], { hostname: 'box1', user: 'nobody', workingDir: '/tmp', env: ['FOO=bar'] }));
    await h.mgr.start(c.id);
    expect(await h.mgr.wait(c.id)).toBe(0);
    expect(logLines(c.logPath)).toEqual([{ stream: 'stdout', text: 'box1 65534:65534 /tmp bar' }]);
  });

  it('bind-mounts volumes, read-only when asked, and makes a read-only rootfs', async () => {
    const vol = fs.mkdtempSync('/tmp/berth-vol-');
    fs.writeFileSync(`${vol}/in.txt`, 'from host\n');
    try {
      const c = await h.mgr.create(h.req(['sh', '-c', 'cat /v/in.txt; echo x > /v/out.txt; echo y > /ro/z || echo ro-ok; touch /rootfile || echo rootfs-ro'], {}, {
        readOnly: true,
        volumes: [containersV1.VolumeMount.fromPartial({ source: vol, destination: '/v' }), containersV1.VolumeMount.fromPartial({ source: vol, destination: '/ro', readOnly: true })],
      }));
      await h.mgr.start(c.id);
      await h.mgr.wait(c.id);
      expect(logLines(c.logPath).filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['from host', 'ro-ok', 'rootfs-ro']);
      expect(fs.readFileSync(`${vol}/out.txt`, 'utf8')).toBe('x\n');
    } finally {
      fs.rmSync(vol, { recursive: true, force: true });
    }
  });
});

describe('security defaults and limits', () => {
  it("applies docker's capability set, masked and read-only paths, no-new-privileges and clamped rlimits", async () => {
    const script = 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; wc -c < /proc/timer_list; echo x > /proc/sys/kernel/hostname || echo sys-ro; ulimit -n';
    const c = await h.mgr.create(h.req(['sh', '-c', script], {}, { noNewPrivileges: true }));
    await h.mgr.start(c.id);
    await h.mgr.wait(c.id);
    const hard = /Max open files\s+\d+\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1];
    const out = logLines(c.logPath).filter((l) => l.stream === 'stdout').map((l) => l.text.replace(/\s+/g, ' ').trim());
    expect(out).toEqual(['CapEff: 00000000a80425fb', 'NoNewPrivs: 1', '0', 'sys-ro', String(Math.min(1048576, Number(hard)))]);
  });

  it('serialises concurrent calls on one container', async () => {
    const c = await h.mgr.create(h.req(['sleep', '1000']));
    const results = await Promise.allSettled([h.mgr.start(c.id), h.mgr.start(c.id), h.mgr.kill(c.id, 'KILL')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as Error).message).toMatch(/already running/);
    expect(await h.mgr.wait(c.id)).toBe(137);
  });
});

describe('concurrent creates', () => {
  it('never give two containers one name: generated ones all differ, and one name asked twice at once is refused once', async () => {
    const made = await Promise.all(Array.from({ length: 20 }, () => h.mgr.create(h.req(['true']))));
    expect(new Set(made.map((c) => c.name)).size).toBe(20);
    const both = await Promise.allSettled([h.mgr.create(h.req(['true'], {}, {}, 'twin')), h.mgr.create(h.req(['true'], {}, {}, 'twin'))]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(NameInUseError);
    expect(h.mgr.list(true).filter((c) => c.name === 'twin')).toHaveLength(1);
  });
});

describe('bad input changes nothing', () => {
  it('refuses bad names, used names, missing volume sources and tiny memory limits', async () => {
    await h.mgr.create(h.req(['true'], {}, {}, 'taken'));
    await expect(h.mgr.create(h.req(['true'], {}, {}, 'taken'))).rejects.toBeInstanceOf(NameInUseError);
    await expect(h.mgr.create(h.req(['true'], {}, {}, '-bad'))).rejects.toBeInstanceOf(InvalidNameError);
    await expect(h.mgr.create(h.req(['true'], {}, { volumes: [containersV1.VolumeMount.fromPartial({ source: '/does/not/exist', destination: '/x' })] }))).rejects.toBeInstanceOf(VolumeSourceMissingError);
    await expect(h.mgr.create(h.req(['true'], {}, { resources: containersV1.Resources.fromPartial({ memory: 1024 * 1024, memorySwap: 0, cpuShares: 0, nanoCpus: 0, pidsLimit: 0 }) }))).rejects.toBeInstanceOf(MemoryTooLowError);
    expect(h.mgr.list(true).map((c) => c.name)).toEqual(['taken']);
    expect(fs.readdirSync(h.mgr.layout.containersDir)).toHaveLength(1);
  });

  it('resolves names and prefixes and refuses unknown or ambiguous references', async () => {
    const a = await h.mgr.create(h.req(['true'], {}, {}, 'alpha'));
    expect(h.mgr.get(a.id.slice(0, 6)).name).toBe('alpha');
    expect(h.mgr.get('/alpha').id).toBe(a.id);
    expect(() => h.mgr.get('nosuch')).toThrow(ContainerNotFoundError);
    // Two ids sharing a first hex digit make a one-character prefix ambiguous.
    const ids = [a.id];
    while (!ids.slice(1).some((i) => i[0] === a.id[0])) ids.push((await h.mgr.create(h.req(['true']))).id);
    expect(() => h.mgr.get(a.id[0]!)).toThrow(AmbiguousContainerRefError);
  });

  it('refuses to stop a stopped container and to remove a running one without force', async () => {
    const c = await h.mgr.create(h.req(['sleep', '100']));
    await expect(h.mgr.stop(c.id)).rejects.toBeInstanceOf(NotRunningError);
    await h.mgr.start(c.id);
    await expect(h.mgr.remove(c.id)).rejects.toBeInstanceOf(RunningDeleteError);
    expect(h.mgr.get(c.id).state!.status).toBe('running');
    await h.mgr.remove(c.id, true);
    expect(() => h.mgr.get(c.id)).toThrow(ContainerNotFoundError);
    expect(fs.existsSync(h.mgr.layout.paths(c.id).dir)).toBe(false);
  });
});
