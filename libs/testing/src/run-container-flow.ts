// "Run a container through the real services", for tests: a real nats-server and the built image-store,
// rootfs and supervisor processes on a temp root; an image imported over Images.Import; its layers unpacked
// and a writable snapshot prepared by rootfs; the container created and started by the supervisor, with the
// snapshot key equal to the container id (as the SDK does). Test-only: the CLI's SDK lives in libs/client.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { containersV1, imagesV1, snapshotsV1 } from '@berth/api';
import { startNatsServer, type NatsServerHandle } from './nats-server';
import { spawnService, waitHealthy, type ServiceProcess } from './service-process';
import { tempBerthDirs } from './temp-dirs';

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

/** A unary call on a generated client, as a promise (30 s deadline). */
export function unaryCall<Res>(client: grpc.Client, method: string, req: unknown): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (!fn) return reject(new Error(`no method ${method} on this client`));
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}

export interface BerthStack {
  nats: NatsServerHandle;
  root: string;
  runDir: string;
  /** The service processes by name ("image-store", "rootfs", "supervisor", and any extra asked for). */
  procs: Map<string, ServiceProcess>;
  images: imagesV1.ImagesClient;
  snapshots: snapshotsV1.SnapshotsClient;
  containers: containersV1.ContainersClient;
  /** Spawns (or spawns again) one service on this stack's root and waits until it is healthy. */
  spawn(service: string, env?: Record<string, string>): Promise<ServiceProcess>;
  /** Stops every process, NATS, and removes the temp dirs (delete containers first). */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** The services to spawn (default image-store, rootfs, supervisor); a test may serve one itself at <runDir>/<name>.sock. */
  services?: string[];
}

/** Starts NATS and the image-store, rootfs and supervisor processes (built dist/main.js) on a temp root. */
export async function startBerthStack(opts: StackOptions = {}): Promise<BerthStack> {
  const nats = await startNatsServer();
  const dirs = tempBerthDirs('berth-stack-');
  const procs = new Map<string, ServiceProcess>();
  const creds = grpc.credentials.createInsecure();
  const stack: BerthStack = {
    nats,
    root: dirs.root,
    runDir: dirs.runDir,
    procs,
    images: undefined as unknown as imagesV1.ImagesClient,
    snapshots: undefined as unknown as snapshotsV1.SnapshotsClient,
    containers: undefined as unknown as containersV1.ContainersClient,
    spawn: async (service, env = {}) => {
      const p = spawnService({ service, root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url, env: { ...opts.env, ...env } });
      procs.set(service, p);
      await waitHealthy(p);
      return p;
    },
    stop: async () => {
      for (const c of [stack.images, stack.snapshots, stack.containers]) c?.close();
      // The supervisor first: it unmounts what it mounted; containers keep running under conmon otherwise.
      for (const name of ['inspector', 'supervisor', ...procs.keys()]) {
        const p = procs.get(name);
        if (p) await p.stop();
        procs.delete(name);
      }
      await nats.dispose();
      dirs.cleanup();
    },
  };
  try {
    await Promise.all((opts.services ?? ['image-store', 'rootfs', 'supervisor']).map((s) => stack.spawn(s)));
  } catch (err) {
    await stack.stop();
    throw err;
  }
  const target = (service: string) => 'unix://' + path.join(dirs.runDir, `${service}.sock`);
  stack.images = new imagesV1.ImagesClient(target('image-store'), creds);
  stack.snapshots = new snapshotsV1.SnapshotsClient(target('rootfs'), creds);
  stack.containers = new containersV1.ContainersClient(target('supervisor'), creds);
  return stack;
}

/** Imports a docker-archive or OCI archive through Images.Import (options, then the bytes in 1 MiB parts). */
export function importArchive(images: imagesV1.ImagesClient, archive: Buffer, name = ''): Promise<imagesV1.ImportResponse> {
  return new Promise((resolve, reject) => {
    const call = images.import(new grpc.Metadata(), { deadline: Date.now() + 60_000 }, (err, res) => (err ? reject(err) : resolve(res!)));
    call.write({ part: { $case: 'options', value: { format: '', name, changes: [], message: '' } } });
    for (let off = 0; off < archive.length; off += 1 << 20) call.write({ part: { $case: 'data', value: archive.subarray(off, off + (1 << 20)) } });
    call.end();
  });
}

export interface RunOptions {
  image: string;
  /** Container id (64 hex); random when absent. */
  id?: string;
  name?: string;
  /** Replaces the image's Cmd. */
  cmd?: string[];
  config?: Partial<containersV1.ContainerConfig>;
  hostConfig?: Partial<containersV1.HostConfig>;
  /** Start it (default true). */
  start?: boolean;
}

interface ImageExecConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ExposedPorts?: Record<string, unknown>;
}

/** docker run's steps over the services: resolve, unpack, prepare (key = id), create, start. */
export async function runContainer(stack: BerthStack, o: RunOptions): Promise<containersV1.Container> {
  const img = await unaryCall<imagesV1.GetImageResponse>(stack.images, 'get', { reference: o.image });
  const r = img.resolved!;
  const layers = r.layers.map((blob, i) => ({ blob, diffId: r.diffIds[i]! }));
  const unpacked = await unaryCall<snapshotsV1.UnpackResponse>(stack.snapshots, 'unpack', { layers, image: o.image });
  const id = o.id ?? randomBytes(32).toString('hex');
  const prepared = await unaryCall<snapshotsV1.MountsResponse>(stack.snapshots, 'prepare', { key: id, parent: unpacked.chainId, labels: {} });
  const ic = (JSON.parse(Buffer.from(r.configJson).toString('utf8')) as { config?: ImageExecConfig }).config ?? {};
  const config: containersV1.ContainerConfig = containersV1.ContainerConfig.fromPartial({
    image: o.image,
    imageId: r.id,
    entrypoint: ic.Entrypoint ?? [],
    cmd: o.cmd ?? ic.Cmd ?? [],
    env: ic.Env ?? [],
    workingDir: ic.WorkingDir ?? '',
    user: ic.User ?? '',
    labels: ic.Labels ?? {},
    stopSignal: ic.StopSignal ?? '',
    exposedPorts: Object.keys(ic.ExposedPorts ?? {}),
    ...o.config,
  });
  const hostConfig = containersV1.HostConfig.fromPartial({ networkMode: 'none', ...o.hostConfig });
  let ctr: containersV1.Container;
  try {
    ctr = await unaryCall<containersV1.Container>(stack.containers, 'create', { id, name: o.name ?? '', config, hostConfig, rootfs: prepared.mounts, snapshotKey: id });
  } catch (err) {
    await unaryCall(stack.snapshots, 'remove', { key: id, force: true, owner: '' }).catch(() => undefined);
    throw err;
  }
  if (o.start === false) return ctr;
  return unaryCall<containersV1.Container>(stack.containers, 'start', { id });
}

/** Deletes the container (force) and its writable snapshot. */
export async function removeContainer(stack: BerthStack, id: string): Promise<void> {
  await unaryCall(stack.containers, 'delete', { id, force: true });
  await unaryCall(stack.snapshots, 'remove', { key: id, force: true, owner: '' });
}

/** Runs a command in a running container through Containers.Exec; resolves with the host PID once started. */
export function execDetached(stack: BerthStack, id: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = stack.containers.exec();
    call.on('data', (m: containersV1.ExecResponse) => {
      if (m.part?.$case === 'started') {
        resolve(m.part.value.pid);
        call.end();
      }
    });
    call.on('error', reject);
    call.on('end', () => reject(new Error('exec ended before it started')));
    call.write({ part: { $case: 'start', value: { id, args, env: [], workingDir: '', user: '', tty: false, stdin: false, detach: true, size: undefined } } });
  });
}
