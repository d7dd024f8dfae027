// The image-store's metadata: blob rows, layer facts (diff id, uncompressed size), image records and the
// blobs each record keeps alive. SQLite in WAL mode: every change is one transaction, never a JSON rewrite.
import Database from 'better-sqlite3';

export interface BlobRow {
  digest: string;
  size: number;
  created_at: number;
}

export interface ImageRow {
  name: string;
  media_type: string;
  digest: string;
  size: number;
  annotations: string;
  manifest_digest: string;
  config_digest: string;
  created_at: number;
  updated_at: number;
  labels: string;
}

export interface LayerInfoRow {
  digest: string;
  diff_id: string;
  uncompressed_size: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS blobs (
  digest TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS layer_info (
  digest TEXT PRIMARY KEY,
  diff_id TEXT NOT NULL,
  uncompressed_size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
  name TEXT PRIMARY KEY,
  media_type TEXT NOT NULL,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  annotations TEXT NOT NULL DEFAULT '{}',
  manifest_digest TEXT NOT NULL,
  config_digest TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS images_config ON images(config_digest);
CREATE TABLE IF NOT EXISTS image_blobs (
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (name, digest)
);
CREATE INDEX IF NOT EXISTS image_blobs_digest ON image_blobs(digest);
`;

export class MetaDb {
  readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // blobs
  getBlob(digest: string): BlobRow | undefined {
    return this.db.prepare('SELECT * FROM blobs WHERE digest = ?').get(digest) as BlobRow | undefined;
  }
  listBlobs(): BlobRow[] {
    return this.db.prepare('SELECT * FROM blobs ORDER BY digest').all() as BlobRow[];
  }
  putBlob(digest: string, size: number, createdAt = Date.now()): void {
    this.db.prepare('INSERT OR IGNORE INTO blobs (digest, size, created_at) VALUES (?, ?, ?)').run(digest, size, createdAt);
  }
  deleteBlob(digest: string): void {
    this.db.prepare('DELETE FROM blobs WHERE digest = ?').run(digest);
    this.db.prepare('DELETE FROM layer_info WHERE digest = ?').run(digest);
  }

  // layer facts learnt while a layer streamed by
  getLayerInfo(digest: string): LayerInfoRow | undefined {
    return this.db.prepare('SELECT * FROM layer_info WHERE digest = ?').get(digest) as LayerInfoRow | undefined;
  }
  putLayerInfo(digest: string, diffId: string, uncompressedSize: number): void {
    this.db
      .prepare('INSERT OR REPLACE INTO layer_info (digest, diff_id, uncompressed_size) VALUES (?, ?, ?)')
      .run(digest, diffId, uncompressedSize);
  }

  // references
  /** Names of the images that keep a blob alive. */
  blobUsers(digest: string): string[] {
    return (this.db.prepare('SELECT name FROM image_blobs WHERE digest = ? ORDER BY name').all(digest) as { name: string }[]).map((r) => r.name);
  }
  referenceCounts(): Map<string, number> {
    const rows = this.db.prepare('SELECT digest, COUNT(*) AS n FROM image_blobs GROUP BY digest').all() as { digest: string; n: number }[];
    return new Map(rows.map((r) => [r.digest, r.n]));
  }
  imageBlobs(name: string): string[] {
    return (this.db.prepare('SELECT digest FROM image_blobs WHERE name = ?').all(name) as { digest: string }[]).map((r) => r.digest);
  }

  // images
  getImage(name: string): ImageRow | undefined {
    return this.db.prepare('SELECT * FROM images WHERE name = ?').get(name) as ImageRow | undefined;
  }
  listImages(): ImageRow[] {
    return this.db.prepare('SELECT * FROM images ORDER BY name').all() as ImageRow[];
  }
  imagesByConfigPrefix(prefix: string): ImageRow[] {
    return this.db.prepare("SELECT * FROM images WHERE substr(config_digest, 1, ?) = ? ORDER BY name").all(prefix.length, prefix) as ImageRow[];
  }
  imagesByTargetDigest(digest: string): ImageRow[] {
    return this.db.prepare('SELECT * FROM images WHERE digest = ? OR manifest_digest = ? ORDER BY name').all(digest, digest) as ImageRow[];
  }
  /** Writes a record and the set of blobs it keeps alive, in one transaction. */
  putImage(row: ImageRow, blobs: string[]): void {
    this.tx(() => {
      this.db
        .prepare(
          `INSERT INTO images (name, media_type, digest, size, annotations, manifest_digest, config_digest, created_at, updated_at, labels)
           VALUES (@name, @media_type, @digest, @size, @annotations, @manifest_digest, @config_digest, @created_at, @updated_at, @labels)
           ON CONFLICT(name) DO UPDATE SET media_type = excluded.media_type, digest = excluded.digest, size = excluded.size,
             annotations = excluded.annotations, manifest_digest = excluded.manifest_digest, config_digest = excluded.config_digest,
             updated_at = excluded.updated_at, labels = excluded.labels`,
        )
        .run(row);
      this.db.prepare('DELETE FROM image_blobs WHERE name = ?').run(row.name);
      const ins = this.db.prepare('INSERT OR IGNORE INTO image_blobs (name, digest) VALUES (?, ?)');
      for (const d of blobs) ins.run(row.name, d);
    });
  }
  deleteImage(name: string): void {
    this.tx(() => {
      this.db.prepare('DELETE FROM images WHERE name = ?').run(name);
      this.db.prepare('DELETE FROM image_blobs WHERE name = ?').run(name);
    });
  }
}
