// docker save's format: manifest.json lists, per image, its config file, its layer files (base first) and
// its tags; "repositories" names the top legacy layer of each tag. Each image becomes an OCI manifest (and
// its config blob as stored), with every layer's uncompressed digest checked against the config's diff ids.
import { MediaType, sha256Digest, type Compression, type Descriptor, type ImageManifest } from '@berth/oci';
import type { ContentStore, Lease } from '../content/content-store';
import { ArchiveDigestError, InvalidArchiveError, MissingBlobError } from '../errors';
import { danglingName, normaliseName, type Images } from '../images/images';
import { parseConfig, parseJson } from '../images/manifests';
import type { ImageCandidate } from './image-candidate';
import type { StagedArchive } from './stage-archive';

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

const LAYER_TYPE: Record<Compression, string> = { none: MediaType.OciLayer, gzip: MediaType.OciLayerGzip, zstd: MediaType.OciLayerZstd };

function parseDockerManifest(data: Buffer): DockerManifestEntry[] {
  const doc = parseJson('manifest.json', data);
  if (!Array.isArray(doc)) throw new InvalidArchiveError('manifest.json is not a JSON array');
  return doc.map((e, i) => {
    const o = e as Partial<DockerManifestEntry>;
    if (typeof o !== 'object' || o === null || typeof o.Config !== 'string' || !Array.isArray(o.Layers) || o.Layers.some((l) => typeof l !== 'string')) {
      throw new InvalidArchiveError(`manifest.json entry ${i} needs Config (string) and Layers (strings)`);
    }
    if (o.RepoTags != null && (!Array.isArray(o.RepoTags) || o.RepoTags.some((t) => typeof t !== 'string'))) {
      throw new InvalidArchiveError(`manifest.json entry ${i}: RepoTags must be strings`);
    }
    return o as DockerManifestEntry;
  });
}

/** Legacy "repositories": { repo: { tag: topLayerId } } → names by top layer id. */
function repositoriesByLayer(data: Buffer | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!data) return out;
  const doc = parseJson('repositories', data);
  if (typeof doc !== 'object' || doc === null) return out;
  for (const [repo, tags] of Object.entries(doc as Record<string, Record<string, string>>)) {
    if (typeof tags !== 'object' || tags === null) continue;
    for (const [tag, id] of Object.entries(tags)) out.set(id, [...(out.get(id) ?? []), `${repo}:${tag}`]);
  }
  return out;
}

function clean(p: string): string {
  return p.split('/').filter((s) => s && s !== '.').join('/');
}

export async function readDockerArchive(staged: StagedArchive, content: ContentStore, images: Images, lease: Lease, extraName?: string): Promise<ImageCandidate[]> {
  const entries = parseDockerManifest(staged.documents.get('manifest.json')!);
  if (!entries.length) throw new InvalidArchiveError('manifest.json lists no images');
  const repos = repositoriesByLayer(staged.documents.get('repositories'));
  const out: ImageCandidate[] = [];
  for (const [i, e] of entries.entries()) {
    const what = `manifest.json entry ${i}`;
    const cfgFile = staged.files.get(clean(e.Config));
    if (!cfgFile) throw new MissingBlobError(`${what} names config "${e.Config}", which is not in the archive`);
    const configJson = content.readAll(cfgFile.digest);
    const config = parseConfig(`config "${e.Config}"`, configJson, e.Layers.length);
    const layers: Descriptor[] = [];
    const layerInfo: ImageCandidate['layerInfo'] = [];
    for (const [j, lp] of e.Layers.entries()) {
      const f = staged.files.get(clean(lp));
      if (!f) throw new MissingBlobError(`${what} names layer "${lp}", which is not in the archive`);
      const facts = f.facts;
      if (!facts?.diffId) throw new ArchiveDigestError(`layer "${lp}" does not decompress: ${facts?.error ?? 'unknown error'}`);
      const want = config.rootfs.diff_ids[j]!;
      if (facts.diffId !== want) throw new ArchiveDigestError(`layer "${lp}": uncompressed digest ${facts.diffId} does not match diff id ${want} in the config`);
      layers.push({ mediaType: LAYER_TYPE[facts.compression], digest: f.digest, size: f.size });
      layerInfo.push({ digest: f.digest, diffId: facts.diffId, uncompressedSize: facts.uncompressedSize! });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: cfgFile.digest, size: cfgFile.size },
      layers,
    };
    const manifestJson = Buffer.from(JSON.stringify(manifest));
    const digest = sha256Digest(manifestJson);
    await content.writeStream([manifestJson], { expectedDigest: digest, expectedSize: manifestJson.length, lease });
    const target: Descriptor = { mediaType: MediaType.OciManifest, digest, size: manifestJson.length };
    let names = e.RepoTags ?? [];
    if (!names.length) {
      const top = e.Layers[e.Layers.length - 1]?.split('/')[0];
      names = (top && repos.get(top)) || [];
    }
    if (extraName) names = [...names, extraName];
    if (!names.length) names = [danglingName(digest)];
    out.push({ names: [...new Set(names.map(normaliseName))], target, resolution: images.resolve(target), layerInfo });
  }
  return out;
}
