// The berth.containers.v1.Archive gRPC service: a thin adapter over ContainerArchive (container-archive.ts).
import { archiveV1 } from '@berth/api';
import { clientStream, serverStream, unary, writeMessage, type Logger, type ServiceRegistration } from '@berth/service-kit';
import pino from 'pino';
import type { ContainerArchive } from './container-archive';
import { MissingTargetMessageError } from './errors';

/** The tar chunks after the first (target) message of a PutArchive stream. */
async function* chunksAfterTarget(it: AsyncIterator<archiveV1.PutArchiveRequest>): AsyncGenerator<Buffer> {
  for (;;) {
    const n = await it.next();
    if (n.done) return;
    const k = n.value.kind;
    if (k?.$case === 'chunk') yield Buffer.from(k.value);
  }
}

export function archiveServiceRegistration(archive: ContainerArchive, log: Logger = pino({ level: 'silent' })): ServiceRegistration {
  const impl: archiveV1.ArchiveServer = {
    statPath: unary(log, 'Archive.StatPath', async (req) => archive.statPath(req.container, req.path)),
    getArchive: serverStream(log, 'Archive.GetArchive', async (req, call) => {
      await archive.getArchive(
        req.container,
        req.path,
        req.followLink,
        (stat) => writeMessage(call, { kind: { $case: 'stat', value: stat } }),
        (chunk) => writeMessage(call, { kind: { $case: 'chunk', value: chunk } }),
      );
    }),
    putArchive: clientStream(log, 'Archive.PutArchive', async (call) => {
      const it = (call as AsyncIterable<archiveV1.PutArchiveRequest>)[Symbol.asyncIterator]();
      const first = await it.next();
      const t = first.done ? undefined : first.value.kind;
      if (t?.$case !== 'target') throw new MissingTargetMessageError();
      const entries = await archive.putArchive(
        t.value.container,
        t.value.path,
        { copyUidGid: t.value.copyUidGid, noOverwriteDirNonDir: t.value.noOverwriteDirNonDir },
        chunksAfterTarget(it),
      );
      return { entries };
    }),
    export: serverStream(log, 'Archive.Export', async (req, call) => {
      await archive.export(req.container, (chunk) => writeMessage(call, { data: chunk }));
    }),
  };
  return { name: 'berth.containers.v1.Archive', definition: archiveV1.ArchiveService, implementation: impl };
}
