// The image-store as one object: content store, image records, import, export and pull over one state
// directory. The gRPC adapters and in-process users (tests, the launcher) share it.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { Exporter } from './archive/exporter';
import { Importer } from './archive/importer';
import { ContentStore } from './content/content-store';
import { NO_EVENTS, type EventSink } from './events';
import { Images } from './images/images';
import { MetaDb } from './meta-db';
import { Puller } from './pull/puller';
import { Pusher } from './push/pusher';

/** Unfinished writes older than this are dropped at start-up. */
export const STALE_INGEST_MS = 24 * 3600 * 1000;

export class ImageStore {
  private constructor(
    readonly stateDir: string,
    readonly db: MetaDb,
    readonly content: ContentStore,
    readonly images: Images,
    readonly importer: Importer,
    readonly exporter: Exporter,
    readonly puller: Puller,
    readonly pusher: Pusher,
  ) {}

  static open(stateDir: string, events: EventSink = NO_EVENTS): ImageStore {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const db = new MetaDb(path.join(stateDir, 'meta.db'));
    const content = new ContentStore(stateDir, db, events);
    content.pruneIngests(STALE_INGEST_MS);
    const images = new Images(content, db, events);
    return new ImageStore(
      stateDir, db, content, images,
      new Importer(content, images, db), new Exporter(content, images, db), new Puller(content, images, db), new Pusher(content, images, db, events),
    );
  }

  close(): void {
    this.db.close();
  }
}
