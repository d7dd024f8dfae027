// A durable queue of events not yet acknowledged by JetStream. An event is written here (one SQLite
// transaction, WAL) before any attempt to publish, and removed only after JetStream acknowledged it, so an
// event raised while NATS is down, or before a crash, is delivered when NATS is back. Retries carry the same
// message id, so JetStream's de-duplication stores each event once.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';

export interface OutboxRow {
  seq: number;
  id: string;
  subject: string;
  payload: string;
}

export class Outbox {
  private readonly db: Database.Database;
  private readonly insertStmt: Database.Statement;
  private readonly peekStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly countStmt: Database.Statement;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      subject TEXT NOT NULL,
      payload TEXT NOT NULL,
      created_at INTEGER NOT NULL)`);
    this.insertStmt = this.db.prepare('INSERT INTO outbox (id, subject, payload, created_at) VALUES (?, ?, ?, ?)');
    this.peekStmt = this.db.prepare('SELECT seq, id, subject, payload FROM outbox ORDER BY seq LIMIT ?');
    this.deleteStmt = this.db.prepare('DELETE FROM outbox WHERE seq = ?');
    this.countStmt = this.db.prepare('SELECT COUNT(*) AS n FROM outbox');
  }

  add(id: string, subject: string, payload: string): void {
    this.insertStmt.run(id, subject, payload, Date.now());
  }

  /** The oldest rows, in the order they were added. */
  peek(limit: number): OutboxRow[] {
    return this.peekStmt.all(limit) as OutboxRow[];
  }

  remove(seq: number): void {
    this.deleteStmt.run(seq);
  }

  size(): number {
    return (this.countStmt.get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
