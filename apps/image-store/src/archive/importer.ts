// Import: a docker-archive, an OCI layout archive or a plain rootfs tarball, streamed in. All blobs are
// held by a lease until the image records are written; on any error the lease's new blobs and the ingest
// files are removed, so a failed import leaves the store as it was.
import type { ContentStore } from '../content/content-store';
import { InvalidArchiveError } from '../errors';
import type { ImageRecord, Images } from '../images/images';
import type { MetaDb } from '../meta-db';
import { readDockerArchive } from './docker-archive';
import type { ImageCandidate } from './image-candidate';
import { readOciLayout } from './oci-layout';
import { importRootfs } from './rootfs-import';
import { stageArchive } from './stage-archive';

export interface ImportOptions {
  /** "auto"/"" (docker-archive or OCI layout) or "rootfs". */
  format?: string;
  name?: string;
  changes?: string[];
  message?: string;
}

export interface ImportResult {
  images: ImageRecord[];
  bytesRead: number;
  blobsWritten: number;
}

export class Importer {
  constructor(
    private readonly content: ContentStore,
    private readonly images: Images,
    private readonly db: MetaDb,
  ) {}

  async import(source: AsyncIterable<Buffer>, opts: ImportOptions = {}): Promise<ImportResult> {
    const format = opts.format || 'auto';
    if (format !== 'auto' && format !== 'rootfs') throw new InvalidArchiveError(`import format "${format}" is not "auto" or "rootfs"`);
    const lease = this.content.lease();
    try {
      let candidates: ImageCandidate[];
      let bytesRead: number;
      if (format === 'rootfs') {
        const r = await importRootfs(source, this.content, this.images, lease, { name: opts.name ?? '', changes: opts.changes ?? [], message: opts.message ?? '' });
        candidates = [r.candidate];
        bytesRead = r.bytesRead;
      } else {
        const staged = await stageArchive(source, this.content, lease);
        bytesRead = staged.bytesRead;
        if (staged.documents.has('index.json')) candidates = readOciLayout(staged, this.content, this.images, opts.name || undefined);
        else if (staged.documents.has('manifest.json')) candidates = await readDockerArchive(staged, this.content, this.images, lease, opts.name || undefined);
        else throw new InvalidArchiveError('archive has neither manifest.json (docker-archive) nor index.json (OCI layout)');
      }
      const records: ImageRecord[] = [];
      this.db.tx(() => {
        for (const c of candidates) for (const l of c.layerInfo) this.db.putLayerInfo(l.digest, l.diffId, l.uncompressedSize);
      });
      for (const c of candidates) for (const n of c.names) records.push(this.images.record(n, c.target, { resolution: c.resolution }));
      return { images: records, bytesRead, blobsWritten: lease.created.size };
    } finally {
      lease.release();
    }
  }
}
