// Image workflows over the image-store: resolve (pulling when asked), import, export, blob upload.
import { createHash } from 'node:crypto';
import type { imagesV1, typesV1 } from '@berth/api';
import type { BerthClients } from './clients';
import { NoSuchImageError, NotFoundError } from './errors';
import { clientStream, readStream, writeMessage } from './streams';

export type PullPolicy = 'missing' | 'never' | 'always';

export interface PullOptions {
  insecureRegistries?: string[];
  username?: string;
  password?: string;
  platform?: string;
  onProgress?: (p: imagesV1.PullProgress) => void;
}

const CHUNK = 256 * 1024;

/** Pulls an image, reporting each progress message; resolves with the image record. */
export async function pullImage(c: BerthClients, reference: string, opts: PullOptions = {}): Promise<imagesV1.Image> {
  const call = c.raw.images.pull({
    reference,
    insecureRegistries: opts.insecureRegistries ?? [],
    username: opts.username ?? '',
    password: opts.password ?? '',
    platform: opts.platform ?? '',
  });
  let done: imagesV1.Image | undefined;
  for await (const p of readStream(call, '/berth.images.v1.Images/Pull', c.targetOf('images'))) {
    opts.onProgress?.(p);
    if (p.event?.$case === 'done') done = p.event.value;
  }
  if (!done) throw new NotFoundError(`pull of ${reference} ended without an image`);
  return done;
}

export interface PushOptions {
  insecureRegistries?: string[];
  username?: string;
  password?: string;
  /** Push under another name ("host:5000/other:v2"); the image's own name otherwise. */
  target?: string;
  onProgress?: (p: imagesV1.PushProgress) => void;
}

/** Pushes an image to its registry, reporting each progress message; resolves with the registry's answer. */
export async function pushImage(c: BerthClients, reference: string, opts: PushOptions = {}): Promise<imagesV1.PushDone> {
  const call = c.raw.images.push({
    reference,
    insecureRegistries: opts.insecureRegistries ?? [],
    username: opts.username ?? '',
    password: opts.password ?? '',
    target: opts.target ?? '',
  });
  let done: imagesV1.PushDone | undefined;
  for await (const p of readStream(call, '/berth.images.v1.Images/Push', c.targetOf('images'))) {
    opts.onProgress?.(p);
    if (p.event?.$case === 'done') done = p.event.value;
  }
  if (!done) throw new NotFoundError(`push of ${reference} ended without the registry's digest`);
  return done;
}

/** Resolves an image reference to its record and runtime view, pulling it first as the policy says. */
export async function resolveImage(c: BerthClients, reference: string, policy: PullPolicy = 'never', pull: PullOptions = {}): Promise<imagesV1.GetImageResponse> {
  if (policy === 'always') await pullImage(c, reference, pull);
  try {
    return await c.images.get({ reference });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    if (policy !== 'missing') throw new NoSuchImageError(reference);
  }
  await pullImage(c, reference, pull);
  return c.images.get({ reference });
}

export interface ImportOptions {
  format?: string;
  name?: string;
  changes?: string[];
  message?: string;
  /** Called after each chunk is handed to gRPC, with the bytes sent so far. */
  onBytes?: (sent: number) => void;
}

/** Streams an archive into Images.Import. */
export async function importImage(c: BerthClients, data: AsyncIterable<Buffer | Uint8Array>, opts: ImportOptions = {}): Promise<imagesV1.ImportResponse> {
  const { call, response } = clientStream<imagesV1.ImportRequest, imagesV1.ImportResponse>(
    (cb) => c.raw.images.import(cb),
    '/berth.images.v1.Images/Import',
    c.targetOf('images'),
  );
  let sent = 0;
  try {
    await writeMessage(call, { part: { $case: 'options', value: { format: opts.format ?? '', name: opts.name ?? '', changes: opts.changes ?? [], message: opts.message ?? '' } } });
    for await (const chunk of data) {
      for (let off = 0; off < chunk.length; off += CHUNK) {
        const part = Buffer.from(chunk.buffer, chunk.byteOffset + off, Math.min(CHUNK, chunk.length - off));
        await writeMessage(call, { part: { $case: 'data', value: part } });
        sent += part.length;
        opts.onBytes?.(sent);
      }
    }
    call.end();
  } catch (err) {
    call.cancel();
    // A server-side failure shows in the response; prefer its message.
    await response.catch((e: unknown) => {
      throw e;
    });
    throw err;
  }
  return response;
}

/** The bytes of a docker-archive (or OCI archive) of the given images. */
export function exportImages(c: BerthClients, references: string[], format = ''): AsyncGenerator<Buffer> {
  const call = c.raw.images.export({ references, format });
  return (async function* () {
    for await (const m of readStream(call, '/berth.images.v1.Images/Export', c.targetOf('images'))) yield Buffer.from(m.data);
  })();
}

/** Uploads one blob with Content.Write; returns its descriptor and whether it was new. */
export async function writeBlob(c: BerthClients, data: Buffer, mediaType: string): Promise<{ descriptor: typesV1.Descriptor; alreadyExisted: boolean }> {
  const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
  const { call, response } = clientStream<import('@berth/api').contentV1.WriteContentRequest, import('@berth/api').contentV1.WriteContentResponse>(
    (cb) => c.raw.content.write(cb),
    '/berth.images.v1.Content/Write',
    c.targetOf('content'),
  );
  try {
    await writeMessage(call, { part: { $case: 'start', value: { ref: `client-${digest}`, expectedDigest: digest, expectedSize: data.length, offset: 0 } } });
    for (let off = 0; off < data.length; off += CHUNK) await writeMessage(call, { part: { $case: 'data', value: data.subarray(off, off + CHUNK) } });
    call.end();
  } catch (err) {
    // The call ended early (the server refused or went away): its response says why.
    call.cancel();
    await response;
    throw err;
  }
  const res = await response;
  return { descriptor: { mediaType, digest, size: data.length, annotations: {} }, alreadyExisted: res.alreadyExisted };
}
