// Snapshot metadata in SQLite (WAL): one row per snapshot, keyed by its key, with a numeric id that names
// its directory. Every change to the set of snapshots is one transaction; directories are moved into or
// out of place inside that transaction so a crash never leaves a record without its directory.
import Database from 'better-sqlite3';
import type { Kind } from './snapshotter';

export interface SnapshotRow {
  id: number;
  key: string;
  parent: string;
  kind: Kind;
  createdAt: Date;
  labels: Record<string, string>;
}

interface RawRow {
  id: number;
  key: string;
  parent: string;
  kind: Kind;
  created_at: number;
  labels: string;
}

function fromRaw(r: RawRow): SnapshotRow {
  return { id: r.id, key: r.key, parent: r.parent, kind: r.kind, createdAt: new Date(r.created_at), labels: JSON.parse(r.labels) as Record<string, string> };
}

export class MetaStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        parent TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL CHECK (kind IN ('view', 'active', 'committed')),
        created_at INTEGER NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent);
    `);
  }

  /** Runs fn in one IMMEDIATE transaction (rolled back when it throws). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  get(key: string): SnapshotRow | undefined {
    const r = this.db.prepare('SELECT * FROM snapshots WHERE key = ?').get(key) as RawRow | undefined;
    return r && fromRaw(r);
  }

  /** Inserts a row and returns its new id. */
  insert(row: { key: string; parent: string; kind: Kind; labels: Record<string, string> }): number {
    const res = this.db
      .prepare('INSERT INTO snapshots (key, parent, kind, created_at, labels) VALUES (?, ?, ?, ?, ?)')
      .run(row.key, row.parent, row.kind, Date.now(), JSON.stringify(row.labels));
    return Number(res.lastInsertRowid);
  }

  /** Turns an active row into a committed one under a new key. */
  rename(id: number, key: string, kind: Kind, labels: Record<string, string>): void {
    this.db.prepare('UPDATE snapshots SET key = ?, kind = ?, labels = ?, created_at = ? WHERE id = ?').run(key, kind, JSON.stringify(labels), Date.now(), id);
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(id);
  }

  children(key: string): string[] {
    return (this.db.prepare('SELECT key FROM snapshots WHERE parent = ? ORDER BY id').all(key) as { key: string }[]).map((r) => r.key);
  }

  list(parent?: string): SnapshotRow[] {
    const rows = parent === undefined
      ? (this.db.prepare('SELECT * FROM snapshots ORDER BY id').all() as RawRow[])
      : (this.db.prepare('SELECT * FROM snapshots WHERE parent = ? ORDER BY id').all(parent) as RawRow[]);
    return rows.map(fromRaw);
  }

  ids(): Set<number> {
    return new Set((this.db.prepare('SELECT id FROM snapshots').all() as { id: number }[]).map((r) => r.id));
  }

  close(): void {
    this.db.close();
  }
}
