// Shared set-up of the inspector e2e tests: the real services on a temp root (libs/testing's stack), the
// busybox test image imported, the inspector process, and promise wrappers for its RPCs.
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { inspectorV1 } from '@berth/api';
import { busyboxImage, dockerArchive, importArchive, startBerthStack, type BerthStack } from '@berth/testing';

export interface InspectorStack {
  stack: BerthStack;
  client: inspectorV1.InspectorClient;
  /** Starts (or restarts) the inspector process and reconnects the client. */
  restartInspector(): Promise<void>;
}

export async function startInspectorStack(env: Record<string, string> = {}): Promise<InspectorStack> {
  const stack = await startBerthStack({ env });
  try {
    await importArchive(stack.images, await dockerArchive([await busyboxImage('busybox:latest')]));
    const out: InspectorStack = {
      stack,
      client: undefined as unknown as inspectorV1.InspectorClient,
      restartInspector: async () => {
        out.client?.close();
        await stack.procs.get('inspector')?.stop();
        const p = await stack.spawn('inspector');
        out.client = new inspectorV1.InspectorClient(p.target, grpc.credentials.createInsecure());
      },
    };
    await out.restartInspector();
    return out;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

export function rpc<Res>(client: grpc.Client, method: string, req: unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: unknown, cb: (e: grpc.ServiceError | null, v: Res) => void) => void>)[method]!.call(client, req, (e, v) => (e ? reject(e) : resolve(v)));
  });
}

export async function inspect(client: inspectorV1.InspectorClient, id: string): Promise<any> {
  const res = await rpc<inspectorV1.InspectResponse>(client, 'inspect', { id });
  return JSON.parse(res.json);
}

export function list(client: inspectorV1.InspectorClient, req: Partial<inspectorV1.ListRequest> = {}): Promise<inspectorV1.ContainerSummary[]> {
  return rpc<inspectorV1.ListResponse>(client, 'list', inspectorV1.ListRequest.fromPartial(req)).then((r) => r.containers);
}

/** Collects a server stream until it ends, or until `stopAfter` says so (then cancels it). */
export function collect<T>(stream: grpc.ClientReadableStream<T>, stopAfter?: (got: T[]) => boolean, timeoutMs = 20_000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(got);
    };
    const timer = setTimeout(() => {
      stream.cancel();
      finish(new Error(`stream did not finish in ${timeoutMs} ms; got ${got.length} messages: ${JSON.stringify(got).slice(0, 600)}`));
    }, timeoutMs);
    stream.on('data', (m: T) => {
      got.push(m);
      if (stopAfter?.(got)) {
        stream.cancel();
        finish();
      }
    });
    stream.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? finish() : finish(e)));
    stream.on('end', () => finish());
  });
}

export async function until(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Mounts, cgroups and netns that the given containers left behind. */
export function leftovers(ids: string[]): string[] {
  const out: string[] = [];
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  for (const id of ids) {
    if (mountinfo.includes(id.slice(0, 12))) out.push(`mount of ${id}`);
    for (const ctrl of ['memory', 'pids', 'cpu', 'cpuacct']) if (fs.existsSync(`/sys/fs/cgroup/${ctrl}/berth/${id}`)) out.push(`cgroup ${ctrl} of ${id}`);
    if (fs.existsSync(`/run/netns/berth-${id.slice(0, 12)}`)) out.push(`netns of ${id}`);
  }
  return out;
}
