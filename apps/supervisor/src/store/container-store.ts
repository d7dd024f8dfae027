// The container records: one SQLite file (<stateDir>/meta.db, WAL). Each row keeps the Container message as
// protobuf JSON plus a small JSON of supervisor-only facts (what is mounted, set up, stopped by the user).
import Database from 'better-sqlite3';
import { containersV1 } from '@berth/api';

export interface RuntimeFacts {
  /** The rootfs is mounted at the bundle's rootfs dir. */
  mounted: boolean;
  /** The network provider's setup ran and has not been torn down. */
  networkUp: boolean;
  /** The runtime (crun/runc) has a container of this id. */
  runtimeCreated: boolean;
  /** Stopped by a user (stop/kill): restart policies other than unless-stopped on boot leave it alone. */
  manuallyStopped: boolean;
  /** Times of the last restarts, for the backoff. */
  restartDelayMs: number;
  /** Its new empty volumes got the image's content (docker's copy-up, once, at Create; at the first start for older records). */
  volumesPopulated?: boolean;
  /** volume.mount was published for its volumes; volume.unmount is due when it stops. */
  volumesMounted?: boolean;
}

export const NO_FACTS: RuntimeFacts = { mounted: false, networkUp: false, runtimeCreated: false, manuallyStopped: false, restartDelayMs: 0 };

export interface StoredContainer {
  ctr: containersV1.Container;
  facts: RuntimeFacts;
}

export class ContainerStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS containers (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      doc TEXT NOT NULL,
      facts TEXT NOT NULL
    )`);
  }

  insert(s: StoredContainer): void {
    this.db
      .prepare('INSERT INTO containers (id, name, created_at, doc, facts) VALUES (?, ?, ?, ?, ?)')
      .run(s.ctr.id, s.ctr.name, s.ctr.createdAt?.getTime() ?? Date.now(), JSON.stringify(containersV1.Container.toJSON(s.ctr)), JSON.stringify(s.facts));
  }

  update(s: StoredContainer): void {
    this.db
      .prepare('UPDATE containers SET name = ?, doc = ?, facts = ? WHERE id = ?')
      .run(s.ctr.name, JSON.stringify(containersV1.Container.toJSON(s.ctr)), JSON.stringify(s.facts), s.ctr.id);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }

  all(): StoredContainer[] {
    const rows = this.db.prepare('SELECT doc, facts FROM containers ORDER BY created_at DESC').all() as { doc: string; facts: string }[];
    return rows.map((r) => ({ ctr: containersV1.Container.fromJSON(JSON.parse(r.doc)), facts: { ...NO_FACTS, ...JSON.parse(r.facts) } }));
  }

  close(): void {
    this.db.close();
  }
}
