// Image records: normalised names pointing at a manifest or index in the content store, resolved to the
// linux/amd64 manifest, its config and layers. Deleting the last name that uses a blob collects the blob.
import { formatReference, isDigest, isIndexMediaType, isManifestMediaType, normaliseReference, parseReference, type Descriptor } from '@berth/oci';
import type { ContentStore } from '../content/content-store';
import {
  AmbiguousImageError,
  DescriptorSizeError,
  ImageInUseByNamesError,
  ImageNotFoundError,
  InvalidImageReferenceError,
  MissingBlobError,
  UnsupportedMediaTypeError,
} from '../errors';
import { imageEvent, NO_EVENTS, type EventSink } from '../events';
import type { ImageRow, MetaDb } from '../meta-db';
import { checkJsonSize, parseConfig, parseIndex, parseManifest, parsePlatform, selectPlatform } from './manifests';

export interface ImageRecord {
  name: string;
  target: Descriptor;
  createdAt: Date;
  updatedAt: Date;
  labels: Record<string, string>;
}

export interface ResolvedImage {
  /** The config digest, docker's image id. */
  id: string;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
  configJson: Buffer;
  names: string[];
}

export interface ImageDetail {
  image: ImageRecord;
  resolved: ResolvedImage;
  /** True when the reference was a name rather than an id. */
  byName?: boolean;
}

export interface Resolution {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
  configJson: Buffer;
  /** Every blob the record keeps alive. */
  blobs: string[];
}

export interface UsageReport {
  totalBytes: number;
  sharedBytes: number;
  images: { id: string; names: string[]; size: number; uniqueSize: number; sharedSize: number }[];
}

/**
 * Images without a name (docker save by id) are recorded as "berth-dangling@<manifest digest>", as moby's
 * containerd store does with "moby-dangling": every record has a name; tools print these as <none>.
 */
export const DANGLING_REPOSITORY = 'docker.io/library/berth-dangling';

export function danglingName(manifestDigest: string): string {
  return `${DANGLING_REPOSITORY}@${manifestDigest}`;
}

/** A name as berth stores it, or INVALID_ARGUMENT naming what is wrong with it. */
export function normaliseName(input: string): string {
  try {
    return normaliseReference(input);
  } catch (err) {
    throw new InvalidImageReferenceError((err as Error).message);
  }
}

export class Images {
  constructor(
    private readonly content: ContentStore,
    private readonly db: MetaDb,
    private readonly events: EventSink = NO_EVENTS,
  ) {}

  /** Reads a manifest/index/config blob, capped in size. */
  readDocument(what: string, d: Descriptor): Buffer {
    checkJsonSize(what, d.size);
    if (!this.content.has(d.digest)) throw new MissingBlobError(`${what} ${d.digest} is not in the content store`);
    const data = this.content.readAll(d.digest);
    checkJsonSize(what, data.length);
    if (data.length !== d.size) throw new DescriptorSizeError(what, d.digest, d.size, data.length);
    return data;
  }

  /** Resolves a target (manifest or index) to the platform's manifest, config and layers; every blob must be stored. */
  resolve(target: Descriptor, platform = 'linux/amd64', chosen?: string): Resolution {
    const blobs = [target.digest];
    let manifestDesc = target;
    if (isIndexMediaType(target.mediaType)) {
      const index = parseIndex(`index ${target.digest}`, this.readDocument('index', target));
      // A record keeps the manifest chosen when it was made (a pull may have asked for another platform).
      manifestDesc = index.manifests.find((m) => m.digest === chosen) ?? selectPlatform(`index ${target.digest}`, index, parsePlatform(platform));
      blobs.push(manifestDesc.digest);
    } else if (!isManifestMediaType(target.mediaType)) {
      throw new UnsupportedMediaTypeError(`image target ${target.digest}`, target.mediaType);
    }
    const manifest = parseManifest(`manifest ${manifestDesc.digest}`, this.readDocument('manifest', manifestDesc));
    const configJson = this.readDocument('config', manifest.config);
    const config = parseConfig(`config ${manifest.config.digest}`, configJson, manifest.layers.length);
    blobs.push(manifest.config.digest);
    for (const l of manifest.layers) {
      if (!this.content.has(l.digest)) throw new MissingBlobError(`manifest ${manifestDesc.digest} names layer ${l.digest}, which is not stored`);
      const size = this.content.info(l.digest).size;
      if (size !== l.size) throw new DescriptorSizeError('layer', l.digest, l.size, size);
      blobs.push(l.digest);
    }
    return {
      manifest: { mediaType: manifestDesc.mediaType, digest: manifestDesc.digest, size: manifestDesc.size },
      config: manifest.config,
      layers: manifest.layers,
      diffIds: config.rootfs.diff_ids,
      configJson,
      blobs: [...new Set(blobs)],
    };
  }

  /** Points a name at a target; creates or moves the record. The caller holds a lease on the blobs. */
  record(name: string, target: Descriptor, opts: { labels?: Record<string, string>; resolution?: Resolution } = {}): ImageRecord {
    const full = normaliseName(name);
    const res = opts.resolution ?? this.resolve(target, undefined, this.db.imagesByTargetDigest(target.digest)[0]?.manifest_digest);
    const now = Date.now();
    const old = this.db.getImage(full);
    const oldBlobs = old ? this.db.imageBlobs(full) : [];
    const row: ImageRow = {
      name: full,
      media_type: target.mediaType,
      digest: target.digest,
      size: target.size,
      annotations: JSON.stringify(target.annotations ?? {}),
      manifest_digest: res.manifest.digest,
      config_digest: res.config.digest,
      created_at: old?.created_at ?? now,
      updated_at: now,
      labels: JSON.stringify(opts.labels ?? (old ? (JSON.parse(old.labels) as Record<string, string>) : {})),
    };
    this.db.putImage(row, res.blobs);
    if (!old) this.events.publish(imageEvent('image.create', full, target.digest));
    else if (old.digest !== target.digest) this.events.publish(imageEvent('image.update', full, target.digest));
    // Blobs only the old target (or the old platform's manifest) used go now.
    const kept = new Set(res.blobs);
    this.content.collect(oldBlobs.filter((d) => !kept.has(d)));
    return toRecord(this.db.getImage(full)!);
  }

  /** The rows a reference names: a name, a full id, or a unique id prefix. */
  private findRows(reference: string): { rows: ImageRow[]; byName: boolean } {
    const ref = reference.trim();
    if (isDigest(ref)) {
      const rows = this.db.imagesByConfigPrefix(ref);
      if (rows.length) return { rows, byName: false };
      const byTarget = this.db.imagesByTargetDigest(ref);
      if (byTarget.length) return { rows: byTarget, byName: false };
      throw new ImageNotFoundError(reference);
    }
    let nameError: Error | undefined;
    try {
      const parsed = parseReference(ref);
      const row = this.db.getImage(formatReference(parsed));
      if (row) return { rows: [row], byName: true };
      if (parsed.digest) {
        // repo@digest names whichever record of that repository points at the digest.
        const repo = `${parsed.domain}/${parsed.path}`;
        const rows = this.db.imagesByTargetDigest(parsed.digest).filter((r) => r.name.startsWith(`${repo}:`) || r.name.startsWith(`${repo}@`));
        if (rows.length) return { rows: [rows[0]!], byName: true };
      }
    } catch (err) {
      nameError = err as Error;
    }
    const hex = /^(?:sha256:)?([a-f0-9]{1,64})$/.exec(ref);
    if (hex) {
      const rows = this.db.imagesByConfigPrefix('sha256:' + hex[1]);
      const ids = new Set(rows.map((r) => r.config_digest));
      if (ids.size > 1) throw new AmbiguousImageError(reference, ids.size);
      if (rows.length) return { rows, byName: false };
    }
    if (nameError) throw new InvalidImageReferenceError(nameError.message);
    throw new ImageNotFoundError(reference);
  }

  get(reference: string): ImageDetail {
    const { rows, byName } = this.findRows(reference);
    return { ...this.detail(rows[0]!), byName };
  }

  private detail(row: ImageRow): ImageDetail {
    const image = toRecord(row);
    const res = this.resolve(image.target, undefined, row.manifest_digest);
    const names = this.db.imagesByTargetDigest(res.manifest.digest).map((r) => r.name);
    return {
      image,
      resolved: { id: res.config.digest, manifest: res.manifest, config: res.config, layers: res.layers, diffIds: res.diffIds, configJson: res.configJson, names },
    };
  }

  list(filter = ''): ImageDetail[] {
    let rows = this.db.listImages();
    if (filter) {
      let full: string | undefined;
      try {
        full = normaliseReference(filter);
      } catch {
        full = undefined;
      }
      rows = rows.filter((r) => r.name === full || r.name.startsWith(filter) || r.name.startsWith(`docker.io/library/${filter}`));
    }
    return rows.map((r) => this.detail(r));
  }

  /** Points a name at a target whose blobs were stored by the caller (docker commit). */
  create(name: string, target: Descriptor, labels: Record<string, string> = {}): ImageRecord {
    const full = normaliseName(name);
    if (!isDigest(target.digest)) throw new InvalidImageReferenceError(`target digest "${target.digest}" is not a sha256 digest`);
    return this.record(full, target, { labels });
  }

  tag(source: string, target: string): ImageRecord {
    const full = normaliseName(target);
    const { rows } = this.findRows(source);
    const src = toRecord(rows[0]!);
    const rec = this.record(full, src.target, { labels: src.labels });
    this.events.publish(imageEvent('image.tag', full, src.target.digest));
    return rec;
  }

  /** Removes a name (or all names of an id with force) and collects the blobs left unreferenced. */
  delete(reference: string, force = false): { untagged: string[]; deleted: string[] } {
    const { rows, byName } = this.findRows(reference);
    const names = rows.map((r) => r.name);
    if (!byName && names.length > 1 && !force) throw new ImageInUseByNamesError(reference, names);
    const candidates = new Set<string>();
    for (const r of rows) {
      for (const d of this.db.imageBlobs(r.name)) candidates.add(d);
      this.db.deleteImage(r.name);
      this.events.publish(imageEvent('image.delete', r.name, r.digest));
    }
    const deleted = this.content.collect(candidates);
    return { untagged: names, deleted };
  }

  usage(): UsageReport {
    const blobs = new Map(this.db.listBlobs().map((b) => [b.digest, b.size]));
    const byId = new Map<string, { names: string[]; blobs: Set<string> }>();
    for (const row of this.db.listImages()) {
      const entry = byId.get(row.config_digest) ?? { names: [], blobs: new Set<string>() };
      entry.names.push(row.name);
      for (const d of this.db.imageBlobs(row.name)) entry.blobs.add(d);
      byId.set(row.config_digest, entry);
    }
    const users = new Map<string, number>();
    for (const e of byId.values()) for (const d of e.blobs) users.set(d, (users.get(d) ?? 0) + 1);
    let totalBytes = 0;
    let sharedBytes = 0;
    for (const [d, size] of blobs) {
      totalBytes += size;
      if ((users.get(d) ?? 0) > 1) sharedBytes += size;
    }
    const images = [...byId].map(([id, e]) => {
      let size = 0;
      let uniqueSize = 0;
      for (const d of e.blobs) {
        const s = blobs.get(d) ?? 0;
        size += s;
        if (users.get(d) === 1) uniqueSize += s;
      }
      return { id, names: e.names, size, uniqueSize, sharedSize: size - uniqueSize };
    });
    return { totalBytes, sharedBytes, images };
  }
}

function toRecord(row: ImageRow): ImageRecord {
  const target: Descriptor = { mediaType: row.media_type, digest: row.digest, size: row.size };
  const ann = JSON.parse(row.annotations) as Record<string, string>;
  if (Object.keys(ann).length) target.annotations = ann;
  return { name: row.name, target, createdAt: new Date(row.created_at), updatedAt: new Date(row.updated_at), labels: JSON.parse(row.labels) as Record<string, string> };
}
