// docker commit: CommitToLayer (rootfs tars the writable layer into the image-store) → a new config and
// manifest uploaded with Content.Write → Images.Create names the manifest. A failure after blobs were
// uploaded deletes the ones this commit added, so no unreferenced blob is left behind.
import type { imagesV1, typesV1 } from '@berth/api';
import type { ImageConfig, ImageManifest } from '@berth/oci';
import type { BerthClients } from './clients';
import { InvalidArgumentError } from './errors';
import { imageHealthcheck, parseImageConfig } from './image-config';
import { writeBlob } from './image-workflows';

export interface CommitOptions {
  /** Name of the new image, e.g. "myapp:v2". */
  name: string;
  author?: string;
  message?: string;
  /** Pause the container while its layer is read (docker commit's default). */
  pause?: boolean;
}

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG = 'application/vnd.oci.image.config.v1+json';

export async function commitContainer(c: BerthClients, ref: string, opts: CommitOptions): Promise<imagesV1.Image> {
  if (!opts.name) throw new InvalidArgumentError('commit needs a name for the new image (REPOSITORY[:TAG])');
  const ctr = await c.containers.get({ id: ref });
  const cc = ctr.config!;
  const base = await c.images.get({ reference: cc.imageId || cc.image });
  const r = base.resolved!;
  const paused = opts.pause && ctr.state?.status === 'running';
  if (paused) await c.containers.pause({ id: ctr.id });
  let layer: { blob?: typesV1.Descriptor; diffId: string };
  try {
    layer = await c.snapshots.commitToLayer({ key: ctr.snapshotKey });
  } finally {
    if (paused) await c.containers.resume({ id: ctr.id });
  }
  const added: string[] = [];
  try {
    const img = parseImageConfig(cc.image, r.configJson);
    const now = new Date().toISOString();
    const config: ImageConfig = {
      ...img,
      created: now,
      ...(opts.author ? { author: opts.author } : {}),
      config: {
        ...img.config,
        Env: cc.env,
        Cmd: cc.cmd.length ? cc.cmd : null,
        Entrypoint: cc.entrypoint.length ? cc.entrypoint : null,
        WorkingDir: cc.workingDir,
        User: cc.user,
        Labels: cc.labels,
        ...(cc.stopSignal ? { StopSignal: cc.stopSignal } : {}),
        ExposedPorts: Object.fromEntries(cc.exposedPorts.map((p) => [p, {}])),
        // The check the container ran with (the image's merged with its flags), as docker commit keeps it.
        ...(cc.healthcheck ? { Healthcheck: imageHealthcheck(cc.healthcheck) } : {}),
      },
      rootfs: { type: 'layers', diff_ids: [...(img.rootfs?.diff_ids ?? r.diffIds), layer.diffId] },
      history: [...(img.history ?? []), { created: now, created_by: [...cc.entrypoint, ...cc.cmd].join(' '), ...(opts.message ? { comment: opts.message } : {}) }],
    };
    const cfg = await writeBlob(c, Buffer.from(JSON.stringify(config)), CONFIG);
    if (!cfg.alreadyExisted) added.push(cfg.descriptor.digest);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: CONFIG, digest: cfg.descriptor.digest, size: cfg.descriptor.size },
      layers: [...r.layers, layer.blob!].map((d) => ({ mediaType: d.mediaType, digest: d.digest, size: d.size })),
    };
    const man = await writeBlob(c, Buffer.from(JSON.stringify(manifest)), MANIFEST);
    if (!man.alreadyExisted) added.push(man.descriptor.digest);
    return await c.images.create({ name: opts.name, target: man.descriptor, labels: {} });
  } catch (err) {
    for (const digest of [...added.reverse(), layer.blob?.digest ?? '']) {
      if (!digest) continue;
      // Refused while another image uses the blob, which is then what we want.
      await c.content.delete({ digest }).catch(() => undefined);
    }
    throw err;
  }
}
