// Parsing and checking of OCI / Docker JSON documents: manifests, indexes, configs. Pure functions, shared
// by the image records, the importers and the puller.
import {
  isConfigMediaType,
  isDigest,
  isIndexMediaType,
  isManifestMediaType,
  layerCompression,
  MediaType,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from '@berth/oci';
import { InvalidArchiveError, JsonTooLargeError, NoMatchingPlatformError, UnsupportedMediaTypeError } from '../errors';

/** Cap on any manifest, index or config document. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;

export function checkJsonSize(what: string, size: number): void {
  if (size > MAX_JSON_BYTES) throw new JsonTooLargeError(what, size, MAX_JSON_BYTES);
}

export function parseJson(what: string, data: Buffer): unknown {
  checkJsonSize(what, data.length);
  try {
    return JSON.parse(data.toString('utf8')) as unknown;
  } catch (err) {
    throw new InvalidArchiveError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkDescriptor(what: string, v: unknown): Descriptor {
  if (!isObject(v)) throw new InvalidArchiveError(`${what}: descriptor is not an object`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || !mediaType) throw new InvalidArchiveError(`${what}: descriptor has no mediaType`);
  if (typeof digest !== 'string' || !isDigest(digest)) throw new InvalidArchiveError(`${what}: "${String(digest)}" is not a sha256 digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new InvalidArchiveError(`${what}: descriptor size ${String(size)} is invalid`);
  const d: Descriptor = { mediaType, digest, size };
  if (isObject(v.annotations)) d.annotations = v.annotations as Record<string, string>;
  if (isObject(v.platform)) d.platform = v.platform as unknown as Platform;
  return d;
}

/** The media type of a manifest-or-index document, from its descriptor or the document itself. */
export function documentMediaType(doc: Record<string, unknown>, fallback?: string): string {
  if (typeof doc.mediaType === 'string' && doc.mediaType) return doc.mediaType;
  if (fallback) return fallback;
  if (Array.isArray(doc.manifests)) return MediaType.OciIndex;
  return MediaType.OciManifest;
}

export function parseManifest(what: string, data: Buffer): ImageManifest {
  const doc = parseJson(what, data);
  if (!isObject(doc)) throw new InvalidArchiveError(`${what} is not a JSON object`);
  const mt = documentMediaType(doc);
  if (!isManifestMediaType(mt)) throw new UnsupportedMediaTypeError(what, mt);
  if (doc.schemaVersion !== 2) throw new InvalidArchiveError(`${what}: schemaVersion ${String(doc.schemaVersion)} is not 2`);
  const config = checkDescriptor(`${what} config`, doc.config);
  if (!isConfigMediaType(config.mediaType)) throw new UnsupportedMediaTypeError(`${what} config`, config.mediaType);
  if (!Array.isArray(doc.layers)) throw new InvalidArchiveError(`${what} has no layers array`);
  const layers = doc.layers.map((l, i) => {
    const d = checkDescriptor(`${what} layer ${i}`, l);
    if (layerCompression(d.mediaType) === undefined) throw new UnsupportedMediaTypeError(`${what} layer ${i}`, d.mediaType);
    return d;
  });
  const m: ImageManifest = { schemaVersion: 2, mediaType: mt, config, layers };
  if (isObject(doc.annotations)) m.annotations = doc.annotations as Record<string, string>;
  return m;
}

export function parseIndex(what: string, data: Buffer): ImageIndex {
  const doc = parseJson(what, data);
  if (!isObject(doc)) throw new InvalidArchiveError(`${what} is not a JSON object`);
  const mt = documentMediaType(doc, MediaType.OciIndex);
  if (!isIndexMediaType(mt)) throw new UnsupportedMediaTypeError(what, mt);
  if (doc.schemaVersion !== 2) throw new InvalidArchiveError(`${what}: schemaVersion ${String(doc.schemaVersion)} is not 2`);
  if (!Array.isArray(doc.manifests)) throw new InvalidArchiveError(`${what} has no manifests array`);
  const idx: ImageIndex = { schemaVersion: 2, mediaType: mt, manifests: doc.manifests.map((m, i) => checkDescriptor(`${what} manifest ${i}`, m)) };
  if (isObject(doc.annotations)) idx.annotations = doc.annotations as Record<string, string>;
  return idx;
}

export function parseConfig(what: string, data: Buffer, layerCount?: number): ImageConfig {
  const doc = parseJson(what, data);
  if (!isObject(doc)) throw new InvalidArchiveError(`${what} is not a JSON object`);
  const rootfs = doc.rootfs;
  if (!isObject(rootfs) || !Array.isArray(rootfs.diff_ids)) throw new InvalidArchiveError(`${what} has no rootfs.diff_ids`);
  for (const d of rootfs.diff_ids) if (typeof d !== 'string' || !isDigest(d)) throw new InvalidArchiveError(`${what}: diff id "${String(d)}" is not a sha256 digest`);
  if (layerCount !== undefined && rootfs.diff_ids.length !== layerCount) {
    throw new InvalidArchiveError(`${what} lists ${rootfs.diff_ids.length} diff ids for ${layerCount} layers`);
  }
  return doc as unknown as ImageConfig;
}

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export function parsePlatform(s: string | undefined): PlatformSpec {
  const [os, architecture, variant] = (s || 'linux/amd64').split('/');
  if (!os || !architecture) throw new InvalidArchiveError(`platform "${s}" is not os/architecture[/variant]`);
  const p: PlatformSpec = { os, architecture };
  if (variant) p.variant = variant;
  return p;
}

export function formatPlatform(p: PlatformSpec): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The index entry for the platform; entries without a platform (attestations) are skipped. */
export function selectPlatform(what: string, index: ImageIndex, platform: PlatformSpec): Descriptor {
  const candidates = index.manifests.filter(
    (m) => isManifestMediaType(m.mediaType) && m.platform && m.platform.os === platform.os && m.platform.architecture === platform.architecture,
  );
  const exact = candidates.find((m) => !platform.variant || m.platform?.variant === platform.variant);
  if (exact) return exact;
  // An index without any platform info (common in OCI layouts with one image): take its only manifest.
  const plain = index.manifests.filter((m) => isManifestMediaType(m.mediaType) && !m.platform);
  if (plain.length === 1 && candidates.length === 0) return plain[0]!;
  throw new NoMatchingPlatformError(what, formatPlatform(platform));
}
