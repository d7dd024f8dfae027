// Real, small images made at test time from the host's busybox-static, written as docker-archive and OCI
// layout tarballs with deterministic digests (fixed mtimes, owners and entry order).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import * as tar from 'tar-stream';

/** Fixed modification time of every entry: 2024-01-01T00:00:00Z. */
export const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');
export const BUSYBOX_BINARY = '/bin/busybox';

export type LayerEntry =
  | { type: 'dir'; path: string; mode?: number; uid?: number; gid?: number }
  | { type: 'file'; path: string; content: Buffer | string; mode?: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string }
  /** Raw header, for hostile-archive tests (absolute paths, "../", odd types). */
  | { type: 'raw'; header: tar.Header; content?: Buffer };

export interface BuiltLayer {
  /** Uncompressed tar. */
  tar: Buffer;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** The blob as stored (gzip when asked). */
  blob: Buffer;
  digest: string;
  mediaType: string;
}

export interface ImageSpec {
  /** Full or short name, e.g. "busybox:latest". */
  name: string;
  layers: LayerEntry[][];
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  workingDir?: string;
  exposedPorts?: string[];
  labels?: Record<string, string>;
  stopSignal?: string;
  user?: string;
  /** VOLUME paths, e.g. ["/data"]. */
  volumes?: string[];
  /** HEALTHCHECK as the image config carries it: { Test: ["CMD-SHELL", "..."], Interval: ns, Retries: n }. */
  healthcheck?: Record<string, unknown>;
}

export interface BuiltImage {
  name: string;
  layers: BuiltLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Packs entries into an uncompressed tar, in the order given. */
export async function packTar(entries: LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  const base = { mtime: FIXED_MTIME, uid: 0, gid: 0, uname: 'root', gname: 'root' };
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      switch (e.type) {
        case 'dir':
          pack.entry({ ...base, name: e.path, type: 'directory', mode: e.mode ?? 0o755, uid: e.uid ?? 0, gid: e.gid ?? 0 }, cb);
          break;
        case 'file': {
          const content = typeof e.content === 'string' ? Buffer.from(e.content) : e.content;
          pack.entry({ ...base, name: e.path, type: 'file', mode: e.mode ?? 0o644, uid: e.uid ?? 0, gid: e.gid ?? 0, size: content.length }, content, cb);
          break;
        }
        case 'symlink':
          pack.entry({ ...base, name: e.path, type: 'symlink', linkname: e.target, mode: 0o777 }, cb);
          break;
        case 'hardlink':
          pack.entry({ ...base, name: e.path, type: 'link', linkname: e.target, mode: 0o644 }, cb);
          break;
        case 'raw':
          if (e.content) pack.entry({ ...base, ...e.header, size: e.content.length }, e.content, cb);
          else pack.entry({ ...base, ...e.header }, cb);
          break;
      }
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

function busyboxApplets(): string[] {
  const out = execFileSync(BUSYBOX_BINARY, ['--list'], { encoding: 'utf8' });
  return out.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox').sort();
}

/** The root filesystem of a busybox image: /bin/busybox, an applet symlink for each command, /etc basics. */
/** An entry read back from a tar: its header and its body as text. */
export interface ReadTarEntry {
  header: tar.Header;
  body: string;
}

/** Reads a whole (uncompressed) tar in memory: entry name → header and body. */
export async function readTarEntries(buf: Buffer): Promise<Map<string, ReadTarEntry>> {
  const out = new Map<string, ReadTarEntry>();
  const ex = tar.extract();
  ex.on('entry', (header, stream, next) => {
    const parts: Buffer[] = [];
    stream.on('data', (c) => parts.push(c as Buffer));
    stream.on('end', () => {
      out.set(header.name, { header, body: Buffer.concat(parts).toString() });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', () => resolve());
    ex.on('error', reject);
    ex.end(buf);
  });
  return out;
}

export function busyboxLayerEntries(): LayerEntry[] {
  if (!fs.existsSync(BUSYBOX_BINARY)) throw new Error(`${BUSYBOX_BINARY} is missing: apt-get install busybox-static`);
  const entries: LayerEntry[] = [
    { type: 'dir', path: 'bin/' },
    { type: 'file', path: 'bin/busybox', content: fs.readFileSync(BUSYBOX_BINARY), mode: 0o755 },
  ];
  for (const applet of busyboxApplets()) entries.push({ type: 'symlink', path: `bin/${applet}`, target: 'busybox' });
  entries.push(
    { type: 'dir', path: 'dev/' },
    { type: 'dir', path: 'etc/' },
    { type: 'file', path: 'etc/group', content: 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n' },
    { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
    { type: 'dir', path: 'home/' },
    { type: 'dir', path: 'proc/' },
    { type: 'dir', path: 'root/', mode: 0o700 },
    { type: 'dir', path: 'sys/' },
    { type: 'dir', path: 'tmp/', mode: 0o1777 },
    { type: 'dir', path: 'usr/' },
    { type: 'dir', path: 'usr/bin/' },
    { type: 'dir', path: 'var/' },
    { type: 'dir', path: 'var/www/' },
    { type: 'file', path: 'var/www/index.html', content: 'hello from berth\n' },
  );
  return entries;
}

export async function buildLayer(entries: LayerEntry[], compression: 'none' | 'gzip' = 'none'): Promise<BuiltLayer> {
  const t = await packTar(entries);
  const blob = compression === 'gzip' ? zlib.gzipSync(t, { level: 6 }) : t;
  return {
    tar: t,
    diffId: sha256(t),
    blob,
    digest: sha256(blob),
    mediaType: compression === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
  };
}

export async function buildImage(spec: ImageSpec, compression: 'none' | 'gzip' = 'none'): Promise<BuiltImage> {
  const layers: BuiltLayer[] = [];
  for (const entries of spec.layers) layers.push(await buildLayer(entries, compression));
  const execution: Record<string, unknown> = {
    Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: spec.cmd ?? ['sh'],
  };
  if (spec.entrypoint) execution.Entrypoint = spec.entrypoint;
  if (spec.workingDir) execution.WorkingDir = spec.workingDir;
  if (spec.exposedPorts) execution.ExposedPorts = Object.fromEntries(spec.exposedPorts.map((p) => [p, {}]));
  if (spec.labels) execution.Labels = spec.labels;
  if (spec.stopSignal) execution.StopSignal = spec.stopSignal;
  if (spec.user) execution.User = spec.user;
  if (spec.volumes) execution.Volumes = Object.fromEntries(spec.volumes.map((p) => [p, {}]));
  if (spec.healthcheck) execution.Healthcheck = spec.healthcheck;
  const config = Buffer.from(
    JSON.stringify({
      created: FIXED_MTIME.toISOString(),
      architecture: 'amd64',
      os: 'linux',
      config: execution,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_, i) => ({ created: FIXED_MTIME.toISOString(), created_by: `berth test layer ${i}` })),
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
    }),
  );
  return { name: spec.name, layers, config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) };
}

/** The busybox test image: one layer, Cmd ["sh"]. */
export function busyboxImage(name = 'busybox:latest', compression: 'none' | 'gzip' = 'none', extra: Partial<ImageSpec> = {}): Promise<BuiltImage> {
  return buildImage({ name, layers: [busyboxLayerEntries()], ...extra }, compression);
}

function hex(digest: string): string {
  return digest.slice('sha256:'.length);
}

/** docker save's format: manifest.json, repositories, <config>.json and one directory per layer. */
export async function dockerArchive(images: BuiltImage[]): Promise<Buffer> {
  const entries: LayerEntry[] = [];
  const manifest: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const seen = new Set<string>();
  for (const img of images) {
    const layerPaths: string[] = [];
    let parent = '';
    for (const layer of img.layers) {
      // Legacy layer ids: a chain of sha256 over the parent id and the diff id.
      const id = createHash('sha256').update(`${parent} ${layer.diffId}`).digest('hex');
      if (!seen.has(id)) {
        seen.add(id);
        entries.push({ type: 'dir', path: `${id}/` });
        entries.push({ type: 'file', path: `${id}/VERSION`, content: '1.0' });
        entries.push({ type: 'file', path: `${id}/json`, content: JSON.stringify({ id, ...(parent ? { parent } : {}) }) });
        entries.push({ type: 'file', path: `${id}/layer.tar`, content: layer.tar });
      }
      layerPaths.push(`${id}/layer.tar`);
      parent = id;
    }
    const configName = `${hex(img.configDigest)}.json`;
    if (!seen.has(configName)) {
      seen.add(configName);
      entries.push({ type: 'file', path: configName, content: img.config });
    }
    manifest.push({ Config: configName, RepoTags: [img.name], Layers: layerPaths });
    const colon = img.name.lastIndexOf(':');
    const repo = colon > img.name.lastIndexOf('/') ? img.name.slice(0, colon) : img.name;
    const tag = colon > img.name.lastIndexOf('/') ? img.name.slice(colon + 1) : 'latest';
    (repositories[repo] ??= {})[tag] = parent;
  }
  entries.push({ type: 'file', path: 'manifest.json', content: JSON.stringify(manifest) });
  entries.push({ type: 'file', path: 'repositories', content: JSON.stringify(repositories) });
  return packTar(entries);
}

/** An OCI image layout archive: oci-layout, index.json (names in annotations), blobs/sha256/*. */
export async function ociArchive(images: BuiltImage[]): Promise<Buffer> {
  const blobs = new Map<string, Buffer>();
  const manifests: unknown[] = [];
  for (const img of images) {
    for (const l of img.layers) blobs.set(l.digest, l.blob);
    blobs.set(img.configDigest, img.config);
    blobs.set(img.manifestDigest, img.manifest);
    const colon = img.name.lastIndexOf(':');
    const tag = colon > img.name.lastIndexOf('/') ? img.name.slice(colon + 1) : 'latest';
    manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.manifestDigest,
      size: img.manifest.length,
      annotations: { 'io.containerd.image.name': img.name, 'org.opencontainers.image.ref.name': tag },
    });
  }
  const entries: LayerEntry[] = [
    { type: 'file', path: 'oci-layout', content: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { type: 'file', path: 'index.json', content: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }) },
    { type: 'dir', path: 'blobs/' },
    { type: 'dir', path: 'blobs/sha256/' },
  ];
  for (const [digest, data] of [...blobs].sort(([a], [b]) => a.localeCompare(b))) {
    entries.push({ type: 'file', path: `blobs/sha256/${hex(digest)}`, content: data });
  }
  return packTar(entries);
}
