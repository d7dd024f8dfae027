// The inspector process against real running containers: the real image-store, rootfs and supervisor
// processes on a temp root, busybox imported, containers unpacked, prepared and started through them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { containersV1, imagesV1, inspectorV1 } from '@berth/api';
import { execDetached, removeContainer, runContainer, unaryCall, wholeDiskOf } from '@berth/testing';
import { collect, inspect, leftovers, list, rpc, startInspectorStack, until, type InspectorStack } from './harness';

jest.setTimeout(120_000);

let s: InspectorStack;
let volume: string;
const created: string[] = [];

async function run(o: Parameters<typeof runContainer>[1]): Promise<containersV1.Container> {
  const c = await runContainer(s.stack, o);
  created.push(c.id);
  return c;
}

const stack = () => s.stack;

const waitExit = (id: string) => unaryCall<containersV1.WaitContainerResponse>(s.stack.containers, 'wait', { id, condition: '' });

beforeAll(async () => {
  s = await startInspectorStack();
  volume = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vol-'));
  fs.writeFileSync(path.join(volume, 'hello.txt'), 'from the host\n');
});

afterAll(async () => {
  const ids = [...created];
  for (const id of ids) await removeContainer(s.stack, id).catch(() => undefined);
  s?.client?.close();
  await s?.stack.stop();
  fs.rmSync(volume, { recursive: true, force: true });
  expect(leftovers(ids)).toEqual([]);
});

test('Inspect fills every field right for a running container (pid, resources, graph driver, volume)', async () => {
  const c = await run({
    image: 'busybox:latest', name: 'web', cmd: ['sleep', '1000'],
    config: { labels: { tier: 'front' }, env: ['PATH=/bin', 'GREETING=hi'] },
    hostConfig: { resources: containersV1.Resources.fromPartial({ cpuShares: 512, memory: 128 * 1024 * 1024 }), volumes: [containersV1.VolumeMount.fromPartial({ source: volume, destination: '/data' })] },
  });
  const img = await unaryCall<imagesV1.GetImageResponse>(s.stack.images, 'get', { reference: 'busybox:latest' });
  for (const ref of ['web', '/web', c.id, c.id.slice(0, 10)]) expect((await inspect(s.client, ref)).Id).toBe(c.id);
  const d = await inspect(s.client, 'web');

  // PID is the host PID of the container's init: sleep, PID 1 in its namespace.
  const pid = d.State.Pid as number;
  expect(pid).toBeGreaterThan(1);
  expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)).toEqual(['sleep', '1000']);
  expect(fs.readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m);
  expect(d.State).toMatchObject({ Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, ExitCode: 0, Error: '', FinishedAt: '0001-01-01T00:00:00Z' });
  expect(Date.parse(d.State.StartedAt)).toBeGreaterThan(Date.parse(d.Created));
  expect([d.Name, d.Path, d.Args, d.Image, d.Driver, d.RestartCount]).toEqual(['/web', 'sleep', ['1000'], img.resolved!.id, 'overlay', 0]);

  // Resources match the flags and the cgroup the runtime made.
  expect(d.HostConfig).toMatchObject({ CpuShares: 512, Memory: 134217728, NetworkMode: 'none', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, ReadonlyRootfs: false });
  expect(fs.readFileSync(`/sys/fs/cgroup/cpu/berth/${c.id}/cpu.shares`, 'utf8').trim()).toBe('512');
  expect(fs.readFileSync(`/sys/fs/cgroup/memory/berth/${c.id}/memory.limit_in_bytes`, 'utf8').trim()).toBe('134217728');
  expect(d.HostConfig.MemorySwap).toBe(2 * 134217728);
  const memsw = `/sys/fs/cgroup/memory/berth/${c.id}/memory.memsw.limit_in_bytes`;
  if (fs.existsSync(memsw)) expect(Number(fs.readFileSync(memsw, 'utf8'))).toBe(d.HostConfig.MemorySwap);

  // The layer directories exist; the merged dir is the container's root.
  const g = d.GraphDriver;
  expect(g.Name).toBe('overlay');
  for (const dir of [...g.Data.LowerDir.split(':'), g.Data.UpperDir, g.Data.WorkDir, g.Data.MergedDir]) expect(fs.statSync(dir).isDirectory()).toBe(true);
  expect(fs.existsSync(path.join(g.Data.MergedDir, 'bin', 'busybox'))).toBe(true);

  // The -v volume, with the host file seen inside the container (through its mount namespace).
  expect(d.Mounts).toEqual([{ Type: 'bind', Source: volume, Destination: '/data', Mode: '', RW: true, Propagation: 'rprivate' }]);
  expect(d.HostConfig.Binds).toEqual([`${volume}:/data`]);
  expect(fs.readFileSync(`/proc/${pid}/root/data/hello.txt`, 'utf8')).toBe('from the host\n');

  expect(d.Config).toMatchObject({ Hostname: c.id.slice(0, 12), Image: 'busybox:latest', Cmd: ['sleep', '1000'], Labels: { tier: 'front' }, Env: ['PATH=/bin', 'GREETING=hi'], StopSignal: 'SIGTERM', Tty: false });
  // none: the runtime made the namespace, named by PID 1 (nothing under /run/netns).
  expect(d.NetworkSettings.SandboxKey).toBe(`/proc/${pid}/ns/net`);
  expect(fs.readlinkSync(d.NetworkSettings.SandboxKey)).toMatch(/^net:\[\d+\]$/);
  expect(fs.readlinkSync(d.NetworkSettings.SandboxKey)).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
  expect(fs.existsSync(`/run/netns/berth-${c.id.slice(0, 12)}`)).toBe(false);
  expect(Object.keys(d.NetworkSettings.Networks)).toEqual(['none']);
  for (const f of [d.LogPath, d.HostnamePath, d.Berth.StateDir]) expect(fs.existsSync(f)).toBe(true);
  expect(d.Berth.SnapshotKey).toBe(c.id);
  expect(fs.readFileSync(`/proc/${d.Berth.ConmonPid}/comm`, 'utf8').trim()).toBe('conmon');

  const im = JSON.parse((await rpc<inspectorV1.InspectResponse>(s.client, 'inspectImage', { id: 'busybox' })).json);
  expect(im.Id).toBe(img.resolved!.id);
  expect(im.RepoTags).toEqual(['busybox:latest']);
  expect(im.RepoDigests).toEqual([`busybox@${img.resolved!.manifest!.digest}`]);
  expect(im.RootFS).toEqual({ Type: 'layers', Layers: img.resolved!.diffIds });
  expect([im.Os, im.Architecture, im.Config.Cmd]).toEqual(['linux', 'amd64', ['sh']]);
  await expect(rpc(s.client, 'inspectImage', { id: 'nosuch:image' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
});

test('unknown and ambiguous references are NOT_FOUND and FAILED_PRECONDITION naming the candidates', async () => {
  const a = await run({ image: 'busybox', id: 'abcabc0' + '1'.repeat(57), name: 'twin-a', cmd: ['true'], start: false });
  const b = await run({ image: 'busybox', id: 'abcabc1' + '2'.repeat(57), name: 'twin-b', cmd: ['true'], start: false });
  const err = await inspect(s.client, 'abcabc').catch((e: grpc.ServiceError) => e);
  expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
  expect(err.details).toContain(`${a.id.slice(0, 12)} (twin-a)`);
  expect(err.details).toContain(`${b.id.slice(0, 12)} (twin-b)`);
  await expect(inspect(s.client, 'nosuchthing')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'no such container: nosuchthing' });
  expect((await inspect(s.client, 'abcabc1')).Name).toBe('/twin-b');
  expect((await inspect(s.client, 'twin-a')).State).toMatchObject({ Status: 'created', Running: false, Pid: 0, StartedAt: '0001-01-01T00:00:00Z' });
});

test('Top shows sleep as container PID 1 and an exec\'d process, in -ef and aux forms', async () => {
  const execPid = await execDetached(s.stack, 'web', ['sh', '-c', 'exec sleep 777']);
  const d = await inspect(s.client, 'web');
  await until(async () => {
    const t = await rpc<inspectorV1.TopResponse>(s.client, 'top', { id: 'web', psArgs: [] });
    return t.processes.some((p) => p.columns.at(-1) === 'sleep 777');
  }, 5000, 'the exec to show in top');

  const ef = await rpc<inspectorV1.TopResponse>(s.client, 'top', { id: 'web', psArgs: ['-ef'] });
  expect(ef.titles).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  const init = ef.processes.find((p) => p.containerPid === 1)!;
  expect(init.hostPid).toBe(d.State.Pid);
  expect(init.columns[1]).toBe(String(d.State.Pid));
  expect(init.columns.at(-1)).toBe('sleep 1000');
  expect(init.columns[0]).toBe('root');
  const ex = ef.processes.find((p) => p.columns.at(-1) === 'sleep 777')!;
  expect(ex.hostPid).toBe(execPid);
  expect(ex.containerPid).toBeGreaterThan(1);
  expect(ef.processes).toHaveLength(2);

  const aux = await rpc<inspectorV1.TopResponse>(s.client, 'top', { id: 'web', psArgs: ['aux'] });
  expect(aux.titles).toEqual(['USER', 'PID', '%CPU', '%MEM', 'VSZ', 'RSS', 'TTY', 'STAT', 'START', 'TIME', 'COMMAND']);
  expect(aux.processes.map((p) => p.columns.at(-1)).sort()).toEqual(['sleep 1000', 'sleep 777']);

  await expect(rpc(s.client, 'top', { id: 'web', psArgs: ['-o', 'comm'] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  await expect(rpc(s.client, 'top', { id: 'web', psArgs: ['--no-such-flag'] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  const stopped = await rpc(s.client, 'top', { id: 'twin-a', psArgs: [] }).catch((e: grpc.ServiceError) => e);
  expect(stopped).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: 'container twin-a is not running (it is created)' });
});

test('ps: running by default, -a, -l shows the last exited container, filters, sizes', async () => {
  const job = await run({ image: 'busybox', name: 'job', cmd: ['sh', '-c', 'head -c 300000 /dev/zero > /blob; exit 3'] });
  expect((await waitExit(job.id)).exitCode).toBe(3);

  const running = await list(s.client);
  expect(running.map((c) => c.names[0])).toEqual(['/web']);
  expect(running[0]!.status).toMatch(/^Up (Less than a second|\d+ seconds?|About a minute)$/);
  expect(running[0]).toMatchObject({ image: 'busybox:latest', command: 'sleep 1000', state: 'running', labels: { tier: 'front' } });

  const last = await list(s.client, { last: 1 });
  expect(last.map((c) => c.names[0])).toEqual(['/job']);
  expect(last[0]!.status).toMatch(/^Exited \(3\) (Less than a second|\d+ seconds?) ago$/);

  const all = await list(s.client, { all: true });
  expect(all.map((c) => c.names[0])).toEqual(['/job', '/twin-b', '/twin-a', '/web']);
  expect(all.find((c) => c.names[0] === '/twin-a')!.status).toBe('Created');

  expect((await list(s.client, { filters: ['exited=3'] })).map((c) => c.id)).toEqual([job.id]);
  expect((await list(s.client, { all: true, filters: ['name=twin', 'status=created'] })).map((c) => c.names[0])).toEqual(['/twin-b', '/twin-a']);
  expect((await list(s.client, { all: true, filters: ['label=tier=front'] })).map((c) => c.names[0])).toEqual(['/web']);
  expect((await list(s.client, { all: true, filters: ['ancestor=busybox:latest', 'id=' + job.id.slice(0, 6)] })).map((c) => c.names[0])).toEqual(['/job']);
  await expect(list(s.client, { filters: ['colour=red'] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('colour') });
  await expect(list(s.client, { filters: ['status=asleep'] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('status=asleep') });

  const sized = await list(s.client, { last: 1, size: true });
  expect(sized[0]!.sizeRw).toBeGreaterThanOrEqual(300000);
  // docker inspect --size: the writable layer, and it plus the unpacked busybox layer (about 2 MB).
  const withSize = JSON.parse((await rpc<inspectorV1.InspectResponse>(s.client, 'inspect', { id: 'job', size: true })).json);
  expect(withSize.SizeRw).toBe(sized[0]!.sizeRw);
  expect(withSize.SizeRootFs).toBeGreaterThan(withSize.SizeRw + 1_000_000);
  expect((await inspect(s.client, 'job')).SizeRw).toBeUndefined();

  // Paused: still listed by default, with docker's suffix; inspect says so.
  await unaryCall(s.stack.containers, 'pause', { id: 'web' });
  try {
    await until(async () => (await list(s.client))[0]?.state === 'paused', 5000, 'web to show paused');
    expect((await list(s.client))[0]!.status).toMatch(/^Up .+ \(Paused\)$/);
    expect((await inspect(s.client, 'web')).State).toMatchObject({ Status: 'paused', Running: true, Paused: true });
  } finally {
    await unaryCall(s.stack.containers, 'resume', { id: 'web' });
  }
  expect((await inspect(s.client, 'web')).State).toMatchObject({ Status: 'running', Paused: false });
});

test('Stats shows memory rising when a process allocates, block writes and CPU use, once and streaming', async () => {
  const c = await run({ image: 'busybox', name: 'mem', cmd: ['sleep', '1000'], hostConfig: { resources: containersV1.Resources.fromPartial({ memory: 256 * 1024 * 1024 }) } });
  const one = async () => (await collect(s.client.stats({ ids: ['mem'], stream: false })))[0]!.stats[0]!;
  const before = await one();
  expect(before).toMatchObject({ id: c.id, name: 'mem', memoryLimit: 256 * 1024 * 1024, pids: 1 });
  expect(before.memoryUsage).toBeGreaterThan(0);
  await execDetached(s.stack, 'mem', ['sh', '-c', 'x=$(head -c 60000000 /dev/zero | tr "\\0" a); exec sleep 600']);
  let after = before;
  await until(async () => {
    after = await one();
    return after.memoryUsage > before.memoryUsage + 50_000_000;
  }, 20_000, 'memory use to rise by 50 MB');
  expect(after.pids).toBeGreaterThanOrEqual(2);
  expect(after.cpuPercent).toBeGreaterThanOrEqual(0);

  // Direct writes reach the disk from the container's blkio cgroup. Kernels 6.x count the v1 throttle
  // statistics only on a disk with a throttle rule (docker --device-write-bps sets one): give it a huge one.
  const rule = `${wholeDiskOf(stack().root).numbers} ${2 ** 40}`;
  fs.writeFileSync(`/sys/fs/cgroup/blkio/berth/${c.id}/blkio.throttle.write_bps_device`, rule);
  await execDetached(s.stack, 'mem', ['dd', 'if=/dev/zero', 'of=/written', 'bs=1M', 'count=8', 'oflag=direct']);
  await until(async () => (await one()).blockWrite >= before.blockWrite + 8 * 1024 * 1024, 15_000, 'block writes to show');
  const spin = await execDetached(s.stack, 'mem', ['sh', '-c', 'while :; do :; done']);
  try {
    await until(async () => (await one()).cpuPercent > 30, 15_000, 'CPU use to show');
  } finally {
    process.kill(spin, 'SIGKILL');
  }

  // Streaming: one sample a second, every running container when none is named.
  const t0 = Date.now();
  const samples = await collect(s.client.stats({ ids: [], stream: true }), (got) => got.length >= 3);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1800);
  for (const m of samples) expect(m.stats.map((x) => x.name).sort()).toEqual(['mem', 'web']);
  await expect(collect(s.client.stats({ ids: ['twin-a'], stream: false }))).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
});

test('events replayed with since/until match what happened, in order; then live ones follow', async () => {
  const since = new Date();
  const c = await run({ image: 'busybox', name: 'evt', cmd: ['sh', '-c', 'exit 7'] });
  await waitExit(c.id);
  await unaryCall(s.stack.containers, 'delete', { id: c.id, force: false });
  await unaryCall(s.stack.snapshots, 'remove', { key: c.id, force: true, owner: '' });
  created.splice(created.indexOf(c.id), 1);
  // Gone between a listing and a question about it: NOT_FOUND, by id and by name.
  await expect(rpc(s.client, 'top', { id: c.id, psArgs: [] })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  await expect(inspect(s.client, 'evt')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  // The services' outboxes deliver in the background: wait for the last event, then fix the window.
  const mine = () => collect(s.client.events(inspectorV1.EventsRequest.fromPartial({ since, untilText: '0s', filters: [`container=${c.id}`] })));
  await until(async () => (await mine()).some((e) => e.action === 'destroy'), 10_000, 'the destroy event');
  const until_ = new Date();

  // As docker shows them for a container: its own events and its network's connect/disconnect.
  const evs = await collect(s.client.events(inspectorV1.EventsRequest.fromPartial({ since, until: until_, filters: [`container=${c.id}`] })));
  expect(evs.map((e) => `${e.type} ${e.action}`)).toEqual(['container create', 'network connect', 'container start', 'container die', 'network disconnect', 'container destroy']);
  for (const e of evs.filter((x) => x.type === 'container')) expect([e.actorId, e.actorAttributes.name, e.actorAttributes.image]).toEqual([c.id, 'evt', 'busybox']);
  expect(evs.find((e) => e.action === 'die')!.actorAttributes.exitCode).toBe('7');
  const times = evs.map((e) => e.time!.getTime());
  expect([...times].sort((a, b) => a - b)).toEqual(times);
  expect(times[0]).toBeGreaterThanOrEqual(since.getTime());
  expect(evs.map((e) => e.sequence)).toEqual([...evs.map((e) => e.sequence)].sort((a, b) => a - b));

  // The same by name and event, with docker's duration form; the snapshot events are there too.
  const byName = await collect(s.client.events(inspectorV1.EventsRequest.fromPartial({ sinceText: '2m', untilText: String(until_.getTime() / 1000), filters: ['container=evt', 'event=die'] })));
  expect(byName.map((e) => [e.action, e.actorId])).toEqual([['die', c.id]]);
  const snaps = await collect(s.client.events(inspectorV1.EventsRequest.fromPartial({ since, until: until_, filters: ['type=snapshot'] })));
  expect(snaps.map((e) => e.actorId)).toContain(c.id);
  // Before the import nothing of this test happened.
  const none = await collect(s.client.events(inspectorV1.EventsRequest.fromPartial({ since: new Date(since.getTime() - 3_600_000), until: new Date(since.getTime() - 3_000_000) })));
  expect(none).toEqual([]);

  for (const bad of [{ filters: ['colour=red'] }, { filters: ['type=planet'] }, { sinceText: 'yesterday' }, { sinceText: '1m', untilText: '5m' }]) {
    await expect(collect(s.client.events(inspectorV1.EventsRequest.fromPartial(bad)))).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  }

  // Exec sessions are container events with docker's exec_* actions.
  const execs = await collect(s.client.events(inspectorV1.EventsRequest.fromPartial({ sinceText: '10m', untilText: '0s', filters: ['container=web', 'event=exec_start'] })));
  expect(execs.length).toBeGreaterThanOrEqual(1);
  expect(execs[0]).toMatchObject({ type: 'container', action: 'exec_start', actorAttributes: expect.objectContaining({ name: 'web', execID: expect.any(String) }) });

  // An until in the future: the replay, then live events up to that time, then the end.
  const t0 = Date.now();
  const upTo = await collect(s.client.events(inspectorV1.EventsRequest.fromPartial({ since, untilText: String((Date.now() + 1500) / 1000), filters: [`container=${c.id}`, 'type=container'] })));
  expect(upTo.map((e) => e.action)).toEqual(['create', 'start', 'die', 'destroy']);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1300);

  // Live: nothing replayed, the next create arrives. The stream gives no sign of when its subscription
  // is in place, so containers are created until one shows: the first to arrive is one of them.
  let arrived = false;
  const live = collect(s.client.events(inspectorV1.EventsRequest.fromPartial({ filters: ['type=container', 'event=create'] })), (got) => got.length >= 1).finally(() => {
    arrived = true;
  });
  const lateIds: string[] = [];
  for (let i = 0; !arrived && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 500));
    if (!arrived) lateIds.push((await run({ image: 'busybox', name: i === 0 ? 'late' : `late-${i}`, cmd: ['true'], start: false })).id);
  }
  const got = await live;
  expect(got).toHaveLength(1);
  expect(got[0]!.action).toBe('create');
  expect(lateIds).toContain(got[0]!.actorId);
});

test('answers stay right across a supervisor restart, and a supervisor that is down is UNAVAILABLE', async () => {
  const before = await inspect(s.client, 'web');
  await s.stack.procs.get('supervisor')!.stop();
  const down = await inspect(s.client, 'web').catch((e: grpc.ServiceError) => e);
  expect(down).toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringContaining('supervisor') });
  // A container exits while the supervisor is away: the restarted supervisor records it, the view follows.
  process.kill(before.State.Pid, 'SIGKILL');
  await s.stack.spawn('supervisor');
  await until(async () => (await inspect(s.client, 'web').catch(() => undefined))?.State.Status === 'exited', 15_000, 'web to show exited');
  const after = await inspect(s.client, 'web');
  expect(after.State).toMatchObject({ Running: false, Pid: 0, ExitCode: 137 });
  expect((await list(s.client)).map((c) => c.names[0])).toEqual(['/mem']);
  // The inspector itself restarted: same answers (the newest is the last of the events test's "late" ones).
  const newest = (await list(s.client, { last: 2 })).map((c) => c.names[0]);
  expect(newest[0]).toMatch(/^\/late(-\d+)?$/);
  await s.restartInspector();
  expect((await list(s.client, { last: 2 })).map((c) => c.names[0])).toEqual(newest);
});

test('a change made while NATS was down shows once NATS is back (the view re-reads after a reconnect)', async () => {
  expect((await list(s.client)).map((c) => c.names[0])).toEqual(['/mem']);
  await s.stack.nats.stop();
  // The supervisor records the stop but cannot announce it: the event waits in its outbox.
  await unaryCall(s.stack.containers, 'kill', { id: 'mem', signal: 'KILL' });
  await waitExit('mem');
  // History cannot be read meanwhile: UNAVAILABLE, naming the event store.
  await expect(collect(s.client.events(inspectorV1.EventsRequest.fromPartial({ sinceText: '1m', untilText: '0s' })))).rejects.toMatchObject({
    code: grpc.status.UNAVAILABLE, details: expect.stringContaining('event store'),
  });
  await s.stack.nats.start();
  await until(async () => (await list(s.client)).length === 0, 8000, 'mem to leave the running list');
  expect((await list(s.client, { last: 1, filters: ['name=mem'] }))[0]!.status).toMatch(/^Exited \(137\)/);
});
