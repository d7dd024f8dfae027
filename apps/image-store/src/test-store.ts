// An in-process image store in a temp directory, for specs: the same classes the service wires.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NewEvent } from '@berth/events';
import { ImageStore } from './image-store';

export interface TestStore {
  dir: string;
  store: ImageStore;
  events: NewEvent[];
  /** Files under blobs/sha256 and ingest, to prove a failed call changed nothing. */
  snapshot(): { blobs: string[]; ingest: string[] };
  close(): void;
}

export function openTestStore(): TestStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-store-'));
  const events: NewEvent[] = [];
  const store = ImageStore.open(dir, { publish: (e) => events.push(e) });
  return {
    dir,
    store,
    events,
    snapshot: () => ({
      blobs: fs.readdirSync(path.join(dir, 'blobs', 'sha256')).sort(),
      ingest: fs.readdirSync(path.join(dir, 'ingest')).sort(),
    }),
    close: () => {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function* chunked(buf: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}
