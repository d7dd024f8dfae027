// Runs the built image-store as its own process against a real nats-server, with promise-based clients.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { contentV1, imagesV1 } from '@berth/api';
import { spawnService, startNatsServer, tempBerthDirs, waitHealthy, type NatsServerHandle, type ServiceProcess } from '@berth/testing';

export interface EventJson {
  topic: string;
  source: string;
  subjectId: string;
  attributes?: Record<string, string>;
  image?: { name: string; targetDigest: string };
  content?: { digest: string; size: string | number };
}

export interface Harness {
  root: string;
  stateDir: string;
  content: contentV1.ContentClient;
  images: imagesV1.ImagesClient;
  events: EventJson[];
  proc: ServiceProcess;
  /** Sorted file names under blobs/sha256 and ingest. */
  snapshot(): { blobs: string[]; ingest: string[] };
  importArchive(data: Buffer, options?: Partial<imagesV1.ImportOptions>): Promise<imagesV1.ImportResponse>;
  exportArchive(references: string[], format: string): Promise<Buffer>;
  pull(req: Partial<imagesV1.PullRequest>): Promise<imagesV1.PullProgress[]>;
  unary<Req, Res>(client: grpc.Client, method: string, req: Req): Promise<Res>;
  waitForEvent(pred: (e: EventJson) => boolean, timeoutMs?: number): Promise<EventJson>;
  /** Stops the service (SIGTERM) and starts it again on the same state root, with new clients. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const nats = await startNatsServer();
  const dirs = tempBerthDirs('berth-image-store-');
  let nc: NatsConnection | undefined;
  let proc: ServiceProcess | undefined;
  try {
    const events: EventJson[] = [];
    nc = await connect({ servers: nats.url });
    const sub = nc.subscribe('berth.events.>');
    void (async () => {
      for await (const m of sub) events.push(m.json<EventJson>());
    })();
    proc = spawnService({ service: 'image-store', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
    await waitHealthy(proc);
    return makeHarness(nats, dirs, nc, proc, events);
  } catch (err) {
    await proc?.stop();
    await nc?.close();
    await nats.dispose();
    dirs.cleanup();
    throw err;
  }
}

function makeHarness(nats: NatsServerHandle, dirs: ReturnType<typeof tempBerthDirs>, nc: NatsConnection, proc: ServiceProcess, events: EventJson[]): Harness {
  const creds = grpc.credentials.createInsecure();
  let content = new contentV1.ContentClient(proc.target, creds);
  let images = new imagesV1.ImagesClient(proc.target, creds);
  const stateDir = path.join(dirs.root, 'image-store');
  const h: Harness = {
    root: dirs.root,
    stateDir,
    content,
    images,
    events,
    proc,
    snapshot: () => ({
      blobs: fs.readdirSync(path.join(stateDir, 'blobs', 'sha256')).sort(),
      ingest: fs.readdirSync(path.join(stateDir, 'ingest')).sort(),
    }),
    unary: <Req, Res>(client: grpc.Client, method: string, req: Req) =>
      new Promise<Res>((resolve, reject) => {
        (client as unknown as Record<string, (r: Req, cb: (e: grpc.ServiceError | null, res: Res) => void) => void>)[method]!.call(client, req, (e, res) => (e ? reject(e) : resolve(res)));
      }),
    importArchive: (data, options = {}) =>
      new Promise((resolve, reject) => {
        const call = images.import((err, res) => (err ? reject(err) : resolve(res!)));
        call.write({ part: { $case: 'options', value: { format: '', name: '', changes: [], message: '', ...options } } });
        for (let i = 0; i < data.length; i += 64 * 1024) call.write({ part: { $case: 'data', value: data.subarray(i, i + 64 * 1024) } });
        call.end();
      }),
    exportArchive: async (references, format) => {
      const chunks: Buffer[] = [];
      for await (const m of images.export({ references, format }) as AsyncIterable<imagesV1.ExportResponse>) chunks.push(m.data);
      return Buffer.concat(chunks);
    },
    pull: async (req) => {
      const out: imagesV1.PullProgress[] = [];
      const full: imagesV1.PullRequest = { reference: '', insecureRegistries: [], username: '', password: '', platform: '', ...req };
      for await (const m of images.pull(full) as AsyncIterable<imagesV1.PullProgress>) out.push(m);
      return out;
    },
    waitForEvent: async (pred, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const e = events.find(pred);
        if (e) return e;
        if (Date.now() > deadline) throw new Error(`no matching event in ${timeoutMs} ms; got ${JSON.stringify(events.map((x) => x.topic))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    restart: async () => {
      h.content.close();
      h.images.close();
      const exit = await h.proc.stop();
      if (exit.code !== 0) throw new Error(`image-store exited with ${exit.code}:\n${h.proc.output().slice(-4000)}`);
      h.proc = spawnService({ service: 'image-store', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
      await waitHealthy(h.proc);
      content = h.content = new contentV1.ContentClient(h.proc.target, creds);
      images = h.images = new imagesV1.ImagesClient(h.proc.target, creds);
    },
    close: async () => {
      h.content.close();
      h.images.close();
      proc = h.proc;
      const exit = await proc.stop();
      await nc.close();
      await nats.dispose();
      dirs.cleanup();
      if (exit.code !== 0) throw new Error(`image-store exited with ${exit.code}:\n${proc.output().slice(-4000)}`);
    },
  };
  return h;
}
