// An OCI image layout archive: oci-layout, index.json and blobs/sha256/<hex>. Every blob was verified
// against its file name while staging; here each index entry is resolved (index → linux/amd64 manifest
// → config and layers, all present) and each layer's uncompressed digest checked against the config.
import { parseReference, type Descriptor } from '@berth/oci';
import type { ContentStore } from '../content/content-store';
import { ArchiveDigestError, InvalidArchiveError } from '../errors';
import { danglingName, normaliseName, type Images } from '../images/images';
import { parseIndex, parseJson } from '../images/manifests';
import type { ImageCandidate } from './image-candidate';
import type { StagedArchive } from './stage-archive';

const CONTAINERD_NAME = 'io.containerd.image.name';
const REF_NAME = 'org.opencontainers.image.ref.name';
const BARE_TAG = /^[\w][\w.-]{0,127}$/;

/** The image name of an index entry: containerd's full-name annotation, else ref.name (a full reference, or a tag for the given name). */
export function entryName(d: Descriptor, fallback: string | undefined): string | undefined {
  const full = d.annotations?.[CONTAINERD_NAME];
  if (full) return full;
  const ref = d.annotations?.[REF_NAME];
  if (ref) {
    if (BARE_TAG.test(ref) && !ref.includes(':')) {
      if (!fallback) return undefined;
      const r = parseReference(fallback);
      return `${r.domain}/${r.path}:${ref}`;
    }
    return ref;
  }
  return fallback;
}

export function readOciLayout(staged: StagedArchive, content: ContentStore, images: Images, extraName?: string): ImageCandidate[] {
  const layout = staged.documents.get('oci-layout');
  if (layout) {
    const doc = parseJson('oci-layout', layout) as { imageLayoutVersion?: unknown };
    if (typeof doc?.imageLayoutVersion !== 'string') throw new InvalidArchiveError('oci-layout has no imageLayoutVersion');
  }
  const index = parseIndex('index.json', staged.documents.get('index.json')!);
  if (!index.manifests.length) throw new InvalidArchiveError('index.json lists no manifests');
  const byDigest = new Map([...staged.files.values()].map((f) => [f.digest, f]));
  const out: ImageCandidate[] = [];
  for (const d of index.manifests) {
    const name = entryName(d, extraName) ?? danglingName(d.digest);
    if (!byDigest.has(d.digest) && !content.has(d.digest)) throw new InvalidArchiveError(`index.json names ${d.digest}, which is not in the archive`);
    const target: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
    const resolution = images.resolve(target);
    const layerInfo: ImageCandidate['layerInfo'] = [];
    for (const [j, l] of resolution.layers.entries()) {
      const f = byDigest.get(l.digest);
      if (!f) continue; // stored earlier, checked then
      if (f.size !== l.size) throw new ArchiveDigestError(`layer ${l.digest}: manifest says ${l.size} bytes, the blob has ${f.size}`);
      if (!f.facts?.diffId) throw new ArchiveDigestError(`layer ${l.digest} does not decompress: ${f.facts?.error ?? 'unknown error'}`);
      const want = resolution.diffIds[j]!;
      if (f.facts.diffId !== want) throw new ArchiveDigestError(`layer ${l.digest}: uncompressed digest ${f.facts.diffId} does not match diff id ${want} in the config`);
      layerInfo.push({ digest: l.digest, diffId: f.facts.diffId, uncompressedSize: f.facts.uncompressedSize! });
    }
    const names = [normaliseName(name)];
    // The given name is an extra tag only when the entry named itself fully; otherwise it supplied the name.
    const ref = d.annotations?.[REF_NAME];
    const selfNamed = Boolean(d.annotations?.[CONTAINERD_NAME] || (ref && !(BARE_TAG.test(ref) && !ref.includes(':'))));
    if (extraName && selfNamed && normaliseName(extraName) !== names[0]) names.push(normaliseName(extraName));
    out.push({ names, target, resolution, layerInfo });
  }
  return out;
}
