// The supervisor as a process: gRPC calls, events on a real NATS in order, and a `kill -9` of the service
// with containers running under conmon, re-adopted (and their exits while it was down recorded) on restart.
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { containersV1 } from '@berth/api';
import { EventBus, type Envelope } from '@berth/events';
import { busyboxRootfsFixture, spawnService, startNatsServer, tempBerthDirs, waitHealthy, type NatsServerHandle, type RootfsFixture, type ServiceProcess } from '@berth/testing';
import { config, hostConfig, leftovers, until } from './harness';

jest.setTimeout(90_000);

type Client = containersV1.ContainersClient;

function call<Req, Res>(c: Client, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (c as unknown as Record<string, (r: Req, cb: (e: grpc.ServiceError | null, v: Res) => void) => void>)[method]!.call(c, req, (e, v) => (e ? reject(e) : resolve(v)));
  });
}

let nats: NatsServerHandle;
let dirs: ReturnType<typeof tempBerthDirs>;
let rootfs: RootfsFixture;
let svc: ServiceProcess;
let client: Client;
let bus: EventBus;
const events: Envelope[] = [];

function spawn(): ServiceProcess {
  return spawnService({ service: 'supervisor', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
}

beforeAll(async () => {
  nats = await startNatsServer();
  dirs = tempBerthDirs('berth-supsvc-');
  rootfs = await busyboxRootfsFixture();
  bus = await EventBus.connect({ url: nats.url, source: 'test', node: 'test' });
  bus.subscribe('>', (ev) => events.push(ev));
  svc = spawn();
  await waitHealthy(svc);
  client = new containersV1.ContainersClient(svc.target, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await svc?.stop();
  await bus?.close();
  await nats?.dispose();
  rootfs?.cleanup();
  dirs?.cleanup();
  // The service's conmon cgroup (shared per host, like /berth): removed when no other conmon uses it.
  for (const c of ['memory', 'pids', 'cpu', 'systemd', 'unified']) {
    try {
      fs.rmdirSync(`/sys/fs/cgroup/${c}/berth-conmon`);
    } catch {
      // absent, or in use by another supervisor's conmon
    }
  }
});

const create = (name: string, args: string[], hc: Partial<containersV1.HostConfig> = {}) =>
  call<containersV1.CreateContainerRequest, containersV1.Container>(client, 'create', {
    name, id: '', snapshotKey: '', config: config(args), hostConfig: hostConfig(hc), rootfs: rootfs.newRootfs(),
  });

const topicsOf = (id: string) => events.filter((e) => e.subjectId === id).map((e) => e.topic);

it('survives kill -9 with containers running, records exits that happened while down, and stays in control', async () => {
  const a = await create('keeper', ['sleep', '1000'], { init: true });
  const b = await create('quitter', ['sh', '-c', 'sleep 1.5; exit 5']);
  await call(client, 'start', { id: 'keeper' });
  await call(client, 'start', { id: 'quitter' });
  const before = await call<containersV1.ContainerRef, containersV1.Container>(client, 'get', { id: a.id });
  expect(before.state!.status).toBe('running');
  const conmonPid = before.state!.conmonPid;
  expect(fs.readFileSync(`/proc/${conmonPid}/comm`, 'utf8').trim()).toBe('conmon');

  // The supervisor dies hard; conmon and the containers do not notice.
  svc.child.kill('SIGKILL');
  await svc.exited;
  expect(fs.readFileSync(`/proc/${conmonPid}/comm`, 'utf8').trim()).toBe('conmon');
  await until(() => fs.existsSync(`${dirs.runDir}/supervisor/exits/${b.id}`), 10_000, 'quitter to exit while the supervisor is down');

  client.close();
  svc = spawn();
  await waitHealthy(svc);
  client = new containersV1.ContainersClient(svc.target, grpc.credentials.createInsecure());
  const quit = await call<containersV1.ContainerRef, containersV1.Container>(client, 'get', { id: 'quitter' });
  expect(quit.state!.status).toBe('exited');
  expect(quit.state!.exitCode).toBe(5);
  const keep = await call<containersV1.ContainerRef, containersV1.Container>(client, 'get', { id: 'keeper' });
  expect(keep.state!.status).toBe('running');
  expect(keep.state!.pid).toBe(before.state!.pid);

  // Still controllable: pause, resume, stop (init forwards SIGTERM: 143).
  await call(client, 'pause', { id: 'keeper' });
  await call(client, 'resume', { id: 'keeper' });
  const stopped = await call<containersV1.StopContainerRequest, containersV1.Container>(client, 'stop', { id: 'keeper', timeout: 10 });
  expect(stopped.state!.exitCode).toBe(143);
  const w = await call<containersV1.WaitContainerRequest, containersV1.WaitContainerResponse>(client, 'wait', { id: 'keeper', condition: '' });
  expect(w.exitCode).toBe(143);
  await call(client, 'delete', { id: 'keeper', force: false });
  await call(client, 'delete', { id: 'quitter', force: false });
  const err = await call(client, 'get', { id: 'keeper' }).catch((e: grpc.ServiceError) => e);
  expect((err as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);

  await until(() => topicsOf(a.id).includes('container.destroy') && topicsOf(b.id).includes('container.destroy'), 10_000, 'destroy events');
  // As docker: the network (here "none") is connected before start and disconnected after the exit.
  expect(topicsOf(a.id)).toEqual(['container.create', 'network.connect', 'container.start', 'container.pause', 'container.unpause', 'container.kill', 'container.die', 'network.disconnect', 'container.stop', 'container.destroy']);
  expect(topicsOf(b.id)).toEqual(['container.create', 'network.connect', 'container.start', 'container.die', 'network.disconnect', 'container.destroy']);
  const die = events.find((e) => e.subjectId === b.id && e.topic === 'container.die')!;
  expect(die.attributes.exitCode).toBe('5');
  expect(die.body?.$case === 'container' && die.body.value.exitCode).toBe(5);
  expect(leftovers(`${dirs.runDir}/supervisor`, [a.id, b.id])).toEqual([]);
});

it('streams attach, exec and logs over gRPC and maps errors to status codes', async () => {
  const c = await create('chatty', ['sh', '-c', 'while read l; do echo "echo:$l"; done']);
  await expect(call(client, 'create', { name: 'chatty', id: '', snapshotKey: '', config: config(['true']), hostConfig: hostConfig(), rootfs: rootfs.newRootfs() }))
    .rejects.toMatchObject({ code: grpc.status.ALREADY_EXISTS });
  const upd = await call<containersV1.CreateContainerRequest, containersV1.Container>(client, 'create', {
    name: 'stdin', id: '', snapshotKey: '', config: config(['sh', '-c', 'while read l; do echo "echo:$l"; done'], { openStdin: true }), hostConfig: hostConfig(), rootfs: rootfs.newRootfs(),
  });
  await call(client, 'delete', { id: c.id, force: false });

  // Attach with start (no output missed), type a line, detach with ctrl-p ctrl-q.
  const att = client.attach();
  let out = '';
  const ended = new Promise<containersV1.AttachResponse[]>((resolve, reject) => {
    const got: containersV1.AttachResponse[] = [];
    att.on('data', (m: containersV1.AttachResponse) => {
      got.push(m);
      if (m.part?.$case === 'stdout') out += m.part.value.toString();
    });
    att.on('end', () => resolve(got));
    att.on('error', reject);
  });
  att.write({ part: { $case: 'start', value: { id: 'stdin', stdin: true, stdout: true, stderr: true, detachKeys: '', start: true, size: undefined } } });
  att.write({ part: { $case: 'stdin', value: Buffer.from('one\n') } });
  await until(() => out.includes('echo:one'), 5000, 'attach output');
  await expect(call(client, 'delete', { id: upd.id, force: false })).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  att.write({ part: { $case: 'stdin', value: Buffer.from([16, 17]) } });
  const msgs = await ended;
  expect(msgs.at(-1)!.part).toEqual({ $case: 'detached', value: true });
  att.end();

  // Exec returns its output and exit code.
  const ex = client.exec();
  const exOut: string[] = [];
  const exDone = new Promise<number>((resolve, reject) => {
    ex.on('data', (m: containersV1.ExecResponse) => {
      if (m.part?.$case === 'stdout') exOut.push(m.part.value.toString());
      if (m.part?.$case === 'exitCode') resolve(m.part.value);
    });
    ex.on('error', reject);
  });
  ex.write({ part: { $case: 'start', value: { id: 'stdin', args: ['sh', '-c', 'echo in-exec; exit 4'], env: [], workingDir: '', user: '', tty: false, stdin: false, detach: false, size: undefined } } });
  expect(await exDone).toBe(4);
  ex.end();
  expect(exOut.join('')).toBe('in-exec\n');

  await call(client, 'kill', { id: 'stdin', signal: 'KILL' });
  const w = await call<containersV1.WaitContainerRequest, containersV1.WaitContainerResponse>(client, 'wait', { id: 'stdin', condition: 'not-running' });
  expect(w.exitCode).toBe(137);
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const s = client.logs({ id: 'stdin', follow: false, since: undefined, until: undefined, tail: -1, stdout: true, stderr: true });
    s.on('data', (l: containersV1.LogEntry) => lines.push(`${l.stream}:${l.line.toString()}`));
    s.on('end', () => resolve());
    s.on('error', reject);
  });
  expect(lines).toEqual(['stdout:echo:one\n']);
  await expect(call(client, 'kill', { id: 'stdin', signal: 'NOPE' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  await call(client, 'delete', { id: 'stdin', force: false });
  expect(leftovers(`${dirs.runDir}/supervisor`, [c.id, upd.id])).toEqual([]);
  await until(() => topicsOf(upd.id).includes('container.destroy'), 10_000, 'the destroy event');
  expect(topicsOf(upd.id)).toEqual(['container.create', 'network.connect', 'container.attach', 'container.start', 'exec.create', 'exec.start', 'exec.die',
    'container.kill', 'container.die', 'network.disconnect', 'container.destroy']);
  const execEvents = events.filter((e) => e.subjectId === upd.id && e.topic.startsWith('exec.'));
  expect(new Set(execEvents.map((e) => e.attributes.execID)).size).toBe(1);
  expect(execEvents.at(-1)!.attributes.exitCode).toBe('4');
});
