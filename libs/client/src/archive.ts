// berth.archive: copying files in and out of containers and exporting them (docker's container archive API),
// served by the supervisor without anything run inside the container.
import type { archiveV1 as a } from '@berth/api';
import type { Promisified } from './clients';
import { clientStream, readStream, writeMessage } from './streams';

export type PathStat = a.PathStat;

export interface PutArchiveOptions {
  /** Keep the tar's uid/gid (docker cp -a); otherwise files belong to the container's user. */
  copyUidGid?: boolean;
  /** Refuse replacing a directory with a non-directory or the reverse (docker cp sets it). */
  noOverwriteDirNonDir?: boolean;
}

const CHUNK = 256 * 1024;

export class ArchiveApi {
  constructor(
    private readonly unary: Promisified<a.ArchiveClient>,
    private readonly raw: () => a.ArchiveClient,
    private readonly target: string,
  ) {}

  /** What a path in a container is; NotFound naming it when missing. */
  statPath(container: string, path: string): Promise<PathStat> {
    return this.unary.statPath({ container, path });
  }

  /**
   * A tar of a path in a container: resolves once the server described the path (failing with its error),
   * then the tar's bytes are read from `tar`.
   */
  async getArchive(container: string, path: string, followLink = false): Promise<{ stat: PathStat; tar: AsyncGenerator<Buffer> }> {
    const it = readStream(this.raw().getArchive({ container, path, followLink }), '/berth.containers.v1.Archive/GetArchive', this.target)[Symbol.asyncIterator]();
    const first = await it.next();
    const k = first.done ? undefined : first.value.kind;
    if (k?.$case !== 'stat') {
      await it.return?.(undefined);
      throw new Error('GetArchive: the server sent no stat first');
    }
    async function* rest(): AsyncGenerator<Buffer> {
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        const kind = n.value.kind;
        if (kind?.$case === 'chunk') yield Buffer.from(kind.value);
      }
    }
    return { stat: k.value, tar: rest() };
  }

  /** Extracts a tar into an existing directory of a container. Returns the number of entries written. */
  async putArchive(container: string, path: string, tar: AsyncIterable<Buffer | Uint8Array>, o: PutArchiveOptions = {}): Promise<number> {
    const { call, response } = clientStream<a.PutArchiveRequest, a.PutArchiveResponse>((cb) => this.raw().putArchive(cb), '/berth.containers.v1.Archive/PutArchive', this.target);
    try {
      await writeMessage(call, { kind: { $case: 'target', value: { container, path, copyUidGid: !!o.copyUidGid, noOverwriteDirNonDir: !!o.noOverwriteDirNonDir } } });
      for await (const chunk of tar) {
        for (let off = 0; off < chunk.length; off += CHUNK) {
          await writeMessage(call, { kind: { $case: 'chunk', value: Buffer.from(chunk.buffer, chunk.byteOffset + off, Math.min(CHUNK, chunk.length - off)) } });
        }
      }
      call.end();
    } catch (err) {
      call.cancel();
      // A refusal by the server shows in the response: prefer its message.
      await response;
      throw err;
    }
    return (await response).entries;
  }

  /** The container's filesystem as a tar (docker export). */
  async *export(container: string): AsyncGenerator<Buffer> {
    for await (const m of readStream(this.raw().export({ container }), '/berth.containers.v1.Archive/Export', this.target)) yield Buffer.from(m.data);
  }
}
