// Streams an image archive (tar, optionally gzip/zstd compressed as a whole) into the content store, one
// entry at a time: every file that may be a blob is hashed and stored as it arrives (a docker-archive's
// manifest.json may come after its layers), small JSON documents are kept in memory (capped), and names
// are checked. Nothing is decided here; the format readers look at the result.
import { randomUUID } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sniffCompression } from '@berth/oci';
import * as tar from 'tar-stream';
import type { ContentStore, Lease } from '../content/content-store';
import { ArchiveDigestError, DigestMismatchError, InvalidArchiveError, SizeMismatchError, UnsafeArchivePathError } from '../errors';
import { BerthError } from '@berth/service-kit';
import { MAX_JSON_BYTES } from '../images/manifests';
import { JsonTooLargeError } from '../errors';
import { cleanEntryName, isOciBlobPath, resolveLinkTarget } from './archive-paths';
import { decompressor, LayerFacts, type LayerFactsResult } from './layer-facts';

/** Top-level documents read into memory rather than stored as blobs. */
const DOCUMENTS = new Set(['manifest.json', 'repositories', 'index.json', 'oci-layout']);
const OCI_BLOB = /^blobs\/sha256\/([a-f0-9]{64})$/;

export interface StagedFile {
  path: string;
  digest: string;
  size: number;
  facts?: LayerFactsResult;
}

export interface StagedArchive {
  files: Map<string, StagedFile>;
  documents: Map<string, Buffer>;
  bytesRead: number;
}

/** Counts bytes and, after peeking at the first ones, decompresses a gzip/zstd archive. */
class ArchiveInput extends Transform {
  bytes = 0;
  private inner: Transform | undefined;
  private sniffed = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (!this.sniffed) {
      this.sniffed = true;
      this.inner = decompressor(sniffCompression(chunk));
      if (this.inner) {
        this.inner.on('data', (d: Buffer) => {
          if (!this.push(d)) this.inner!.pause();
        });
        this.inner.on('error', (err: Error) => this.destroy(new InvalidArchiveError(`archive does not decompress: ${err.message}`)));
      }
    }
    if (!this.inner) return cb(null, chunk);
    if (this.inner.write(chunk)) cb();
    else this.inner.once('drain', () => cb());
  }

  override _read(size: number): void {
    this.inner?.resume();
    super._read(size);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.inner) return cb();
    this.inner.once('end', () => cb());
    this.inner.end();
  }
}

export async function stageArchive(source: AsyncIterable<Buffer>, content: ContentStore, lease: Lease): Promise<StagedArchive> {
  const files = new Map<string, StagedFile>();
  const documents = new Map<string, Buffer>();
  const links: [string, string][] = [];
  const input = new ArchiveInput();
  const extract = tar.extract();
  let feedError: unknown;
  const feeding = pipeline(Readable.from(source, { objectMode: false }), input, extract).catch((err: unknown) => {
    feedError = err;
  });
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = cleanEntryName(h.name);
      switch (h.type) {
        case 'directory':
          entry.resume();
          break;
        case 'symlink':
        case 'link': {
          entry.resume();
          if (isOciBlobPath(name) || DOCUMENTS.has(name)) throw new UnsafeArchivePathError(h.name, `a ${h.type} may not stand for a blob or document`);
          const target = h.type === 'symlink' ? resolveLinkTarget(name, h.linkname ?? '') : cleanEntryName(h.linkname ?? '');
          links.push([name, target]);
          break;
        }
        case 'file':
        case 'contiguous-file':
        case null:
        case undefined: {
          const size = h.size ?? 0;
          if (DOCUMENTS.has(name)) {
            if (size > MAX_JSON_BYTES) throw new JsonTooLargeError(name, size, MAX_JSON_BYTES);
            const chunks: Buffer[] = [];
            for await (const c of entry) chunks.push(c as Buffer);
            documents.set(name, Buffer.concat(chunks));
          } else if (/(^|\/)(json|VERSION)$/.test(name) && !name.endsWith('.json')) {
            entry.resume(); // legacy per-layer metadata of docker save: not needed
          } else {
            if (isOciBlobPath(name) && !OCI_BLOB.test(name)) throw new InvalidArchiveError(`archive entry "${name}": only blobs/sha256/<64 hex> blobs are supported`);
            files.set(name, await stageFile(name, size, entry as unknown as AsyncIterable<Buffer>, content, lease, `import-${randomUUID()}`));
          }
          break;
        }
        default:
          entry.resume();
          throw new InvalidArchiveError(`archive entry "${h.name}" has unsupported type ${h.type}`);
      }
    }
  } catch (err) {
    extract.destroy();
    await feeding;
    // The host's own failures (ENOSPC...) come first: destroying the extractor makes the feed's error a bare
    // "Premature close" that would hide them.
    const hostError = err instanceof Error && 'syscall' in err;
    throw wrapTarError(err instanceof BerthError || hostError ? err : (feedError ?? err));
  }
  await feeding;
  if (feedError) throw wrapTarError(feedError);
  for (const [name, target] of links) {
    const f = files.get(target);
    if (f) files.set(name, { ...f, path: name });
  }
  return { files, documents, bytesRead: input.bytes };
}

async function stageFile(name: string, size: number, entry: AsyncIterable<Buffer>, content: ContentStore, lease: Lease, ref: string): Promise<StagedFile> {
  const m = OCI_BLOB.exec(name);
  const expectedDigest = m ? `sha256:${m[1]}` : undefined;
  const facts = new LayerFacts();
  async function* tee(): AsyncGenerator<Buffer> {
    for await (const c of entry) {
      await facts.push(c);
      yield c;
    }
  }
  try {
    const opts: Parameters<ContentStore['writeStream']>[1] = { ref, expectedSize: size, lease, what: `archive entry "${name}"` };
    if (expectedDigest) opts.expectedDigest = expectedDigest;
    const res = await content.writeStream(tee(), opts);
    return { path: name, digest: res.digest, size: res.size, facts: await facts.finish(res.digest) };
  } catch (err) {
    if (err instanceof DigestMismatchError || err instanceof SizeMismatchError) throw new ArchiveDigestError(err.message);
    throw err;
  }
}

function wrapTarError(err: unknown): unknown {
  if (err instanceof Error && !('grpcCode' in err)) {
    if (/Unexpected end of data|Invalid tar header|unknown format|premature close/i.test(err.message)) {
      return new InvalidArchiveError(`archive is truncated or not a tar: ${err.message}`);
    }
  }
  return err;
}
