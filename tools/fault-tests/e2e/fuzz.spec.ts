// Random and malformed messages to every RPC of every service, listed from the generated service
// definitions: random bytes as the serialized request, and well-formed requests with random field values.
// Every call must end with a proper gRPC status within its deadline, and no service may crash.
import { randomBytes, randomInt } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { archiveV1, contentV1, imagesV1, snapshotsV1, containersV1, networksV1, volumesV1, inspectorV1 } from '@berth/api';
import { checkHealth } from '@berth/testing';
import { importBusybox, removeAllContainers, SERVICES, startBerth, type BerthUnderTest, type ServiceName } from './harness';

jest.setTimeout(300_000);

interface MethodDef {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(v: unknown): Buffer;
  requestDeserialize(b: Buffer): unknown;
}

const DEFINITIONS: [ServiceName, Record<string, MethodDef>][] = [
  ['image-store', contentV1.ContentService as unknown as Record<string, MethodDef>],
  ['image-store', imagesV1.ImagesService as unknown as Record<string, MethodDef>],
  ['rootfs', snapshotsV1.SnapshotsService as unknown as Record<string, MethodDef>],
  ['supervisor', containersV1.ContainersService as unknown as Record<string, MethodDef>],
  ['supervisor', networksV1.NetworksService as unknown as Record<string, MethodDef>],
  ['supervisor', volumesV1.VolumesService as unknown as Record<string, MethodDef>],
  ['supervisor', archiveV1.ArchiveService as unknown as Record<string, MethodDef>],
  ['inspector', inspectorV1.InspectorService as unknown as Record<string, MethodDef>],
];
const PER_RPC = Number(process.env.BERTH_FUZZ_PER_RPC ?? 10);
const DEADLINE_MS = 3000;

const NASTY = ['', '..', '../../../../etc/passwd', '/', '\u0000', 'a'.repeat(5000), 'sha256:', 'sha256:zz', '%s%n', '*', '-1', 'busybox', '${HOME}', '\udc00'];

function randomString(): string {
  if (randomInt(3) === 0) return NASTY[randomInt(NASTY.length)];
  return randomBytes(randomInt(1, 40)).toString(randomInt(2) ? 'hex' : 'latin1');
}

function randomNumber(big: boolean): number {
  return [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), randomInt(-1000, 1000), big ? randomInt(2 ** 47) : 7][randomInt(7)];
}

/** Same shape as the message's defaults (decoded from no bytes), every scalar replaced by a random value. */
function randomize(defaults: unknown, safe = false): unknown {
  if (typeof defaults === 'string') return randomString();
  if (typeof defaults === 'number') return randomNumber(!safe);
  if (typeof defaults === 'boolean') return randomInt(2) === 1;
  if (Buffer.isBuffer(defaults) || defaults instanceof Uint8Array) return randomBytes(randomInt(64));
  // Repeated fields decode empty, so their element type is unknown: strings first, none if that fails to
  // encode (as 64-bit numbers do in an int32 field).
  if (Array.isArray(defaults)) return !safe ? Array.from({ length: randomInt(3) }, randomString) : [];
  if (defaults && typeof defaults === 'object') {
    const out: Record<string, unknown> = {};
    const entries = Object.entries(defaults);
    // An empty object is a map field: random keys and values.
    if (!entries.length) for (let i = randomInt(3); i > 0; i--) out[randomString()] = randomString();
    for (const [k, v] of entries) out[k] = randomize(v, safe);
    return out;
  }
  return defaults;
}

/** Requests that would reach outside the machine are pointed at a closed loopback port. */
function confine(path: string, req: Record<string, unknown>): Record<string, unknown> {
  // Registries only on a closed loopback port: never a lookup of a public name, whatever the random text.
  if (path.endsWith('/Pull')) req.reference = `127.0.0.1:1/${randomBytes(4).toString('hex')}`;
  if (path.endsWith('/Push')) req.target = `127.0.0.1:1/${randomBytes(4).toString('hex')}:t`;
  return req;
}

interface Outcome {
  path: string;
  kind: 'bytes' | 'fields';
  code: number;
  details: string;
}

function call(client: grpc.Client, m: MethodDef, payload: Buffer, kind: Outcome['kind']): Promise<Outcome> {
  const identity = (b: Buffer) => b;
  const deadline = Date.now() + DEADLINE_MS;
  return new Promise((resolve) => {
    const done = (code: number, details: string) => resolve({ path: m.path, kind, code, details });
    if (!m.requestStream && !m.responseStream) {
      client.makeUnaryRequest(m.path, identity, identity, payload, { deadline }, (err) => done(err ? err.code : 0, err?.details ?? ''));
      return;
    }
    let c: grpc.ClientReadableStream<Buffer> | grpc.ClientWritableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>;
    if (m.requestStream && m.responseStream) c = client.makeBidiStreamRequest(m.path, identity, identity, { deadline });
    else if (m.requestStream) c = client.makeClientStreamRequest(m.path, identity, identity, { deadline }, () => undefined);
    else c = client.makeServerStreamRequest(m.path, identity, identity, payload, { deadline });
    c.on('status', (s: grpc.StatusObject) => done(s.code, s.details));
    c.on('error', () => undefined);
    if ('on' in c && m.responseStream) (c as grpc.ClientReadableStream<Buffer>).on('data', () => undefined);
    if (m.requestStream) {
      const w = c as grpc.ClientWritableStream<Buffer>;
      w.write(payload);
      w.write(randomBytes(randomInt(200)));
      w.end();
    }
  });
}

describe('fuzzing every RPC', () => {
  let b: BerthUnderTest;

  beforeAll(async () => {
    b = await startBerth();
    await importBusybox(b.berth);
  });

  afterAll(async () => {
    if (b) {
      await removeAllContainers(b.berth).catch(() => undefined);
      await b.stop();
    }
  });

  it('answers random bytes and random field values with a proper status, and every service stays up', async () => {
    const pidsBefore = await b.pids();
    const netsBefore = new Set((await b.berth.networks.list({ nameContains: '' })).networks.map((n) => n.name));
    const snapsBefore = new Set((await b.berth.snapshots.list({ parent: '' })).snapshots.map((s) => s.key));
    const clients = new Map(SERVICES.map((s) => [s, new grpc.Client(`unix://${b.runDir}/${s}.sock`, grpc.credentials.createInsecure())]));

    const jobs: (() => Promise<Outcome>)[] = [];
    let rpcs = 0;
    for (const [svc, def] of DEFINITIONS) {
      for (const m of Object.values(def)) {
        rpcs++;
        const client = clients.get(svc)!;
        for (let i = 0; i < PER_RPC; i++) {
          jobs.push(() => call(client, m, randomBytes(randomInt(1, 300)), 'bytes'));
          jobs.push(() => {
            const defaults = m.requestDeserialize(Buffer.alloc(0));
            let payload: Buffer;
            try {
              payload = m.requestSerialize(confine(m.path, randomize(defaults) as Record<string, unknown>));
            } catch {
              payload = m.requestSerialize(confine(m.path, randomize(defaults, true) as Record<string, unknown>));
            }
            return call(client, m, payload, 'fields');
          });
        }
      }
    }
    const outcomes: Outcome[] = [];
    const started = Date.now();
    const workers = Array.from({ length: 16 }, async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) outcomes.push(await job());
    });
    await Promise.all(workers);
    for (const c of clients.values()) c.close();

    const codes: Record<string, number> = {};
    for (const o of outcomes) codes[grpc.status[o.code]] = (codes[grpc.status[o.code]] ?? 0) + 1;
    console.log(`fuzz: ${rpcs} RPCs, ${outcomes.length} calls in ${Date.now() - started} ms: ${JSON.stringify(codes)}`);

    // UNKNOWN means a handler threw something untyped; UNAVAILABLE would mean a service fell over (but for a
    // pull from the closed loopback port, which is the registry being unreachable).
    const bad = outcomes.filter(
      (o) =>
        o.code === grpc.status.UNKNOWN ||
        (o.code === grpc.status.UNAVAILABLE && !/cannot reach registry 127\.0\.0\.1:1/.test(o.details)) ||
        (o.code === grpc.status.INTERNAL && !/deserializ|parse|decode|invalid wire|index out of range|premature/i.test(o.details)),
    );
    expect([...new Set(bad.map((o) => `${o.path}: ${grpc.status[o.code]} ${o.details.slice(0, 200)}`))]).toEqual([]);
    // A deadline may only end a call that follows a stream or waits for a container.
    const timedOut = outcomes.filter((o) => o.code === grpc.status.DEADLINE_EXCEEDED && !/\/(Events|Stats|Logs|Attach|Exec|Wait|Pull|Import|Write)$/.test(o.path));
    expect(timedOut.map((o) => `${o.path} ${o.kind}`)).toEqual([]);
    // Every error says what was wrong.
    expect(outcomes.filter((o) => o.code !== 0 && o.code !== grpc.status.DEADLINE_EXCEEDED && o.code !== grpc.status.CANCELLED && !o.details.trim()).map((o) => o.path)).toEqual([]);

    for (const s of SERVICES) expect(await checkHealth(`unix://${b.runDir}/${s}.sock`)).toBe('SERVING');
    expect(await b.pids()).toEqual(pidsBefore);

    // Leave nothing the random requests happened to make.
    await removeAllContainers(b.berth);
    for (const n of (await b.berth.networks.list({ nameContains: '' })).networks) if (!netsBefore.has(n.name)) await b.berth.networks.remove({ id: n.id }).catch(() => undefined);
    for (const s of (await b.berth.snapshots.list({ parent: '' })).snapshots.reverse()) if (!snapsBefore.has(s.key)) await b.berth.removeSnapshot(s.key).catch(() => undefined);
    await b.berth.volumes.prune({ all: true });
    expect(await b.berth.volumes.list()).toEqual([]);
  });
});
