// berth.images.v1.Images over gRPC: a thin adapter over the ImageStore's domain classes.
import type { ServerReadableStream } from '@grpc/grpc-js';
import { imagesV1 } from '@berth/api';
import { clientStream, InvalidArgumentError, serverStream, unary, type Logger, type ServiceRegistration } from '@berth/service-kit';
import type { Descriptor } from '@berth/oci';
import { parseExportFormat } from '../archive/exporter';
import type { ImageStore } from '../image-store';
import { callMessages } from './call-messages';
import { sendMessage } from './send-message';
import { toDescriptor, toGetResponse, toImage } from './convert';
import type { Pusher } from '../push/pusher';

class ImportMessageError extends InvalidArgumentError {}
class CreateTargetMissingError extends InvalidArgumentError {}

/** The options of an Import call and an iterator over the archive bytes that follow. */
async function importParts(call: ServerReadableStream<imagesV1.ImportRequest, imagesV1.ImportResponse>) {
  const it = callMessages(call, 'Images.Import');
  const first = await it.next();
  const opts = first.done ? undefined : first.value.part;
  if (opts?.$case !== 'options') throw new ImportMessageError('the first Import message must carry the options');
  async function* data(): AsyncGenerator<Buffer> {
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      const part = next.value.part;
      if (part?.$case !== 'data') throw new ImportMessageError('only data messages may follow the Import options');
      yield part.value;
    }
  }
  return { options: opts.value, data: data() };
}

export function imagesService(store: ImageStore, log: Logger): ServiceRegistration {
  const pusher = store.pusher;
  const impl: imagesV1.ImagesServer = {
    list: unary(log, 'Images.List', async (req: imagesV1.ListImagesRequest) => ({ images: store.images.list(req.filter).map(toGetResponse) })),
    get: unary(log, 'Images.Get', async (req: imagesV1.GetImageRequest) => toGetResponse(store.images.get(req.reference))),
    tag: unary(log, 'Images.Tag', async (req: imagesV1.TagImageRequest) => toImage(store.images.tag(req.source, req.target))),
    create: unary(log, 'Images.Create', async (req: imagesV1.CreateImageRequest) => {
      if (!req.target) throw new CreateTargetMissingError('Create needs a target descriptor');
      const target: Descriptor = { mediaType: req.target.mediaType, digest: req.target.digest, size: req.target.size };
      return toImage(store.images.create(req.name, target, req.labels));
    }),
    delete: unary(log, 'Images.Delete', async (req: imagesV1.DeleteImageRequest) => store.images.delete(req.reference, req.force)),
    import: clientStream(log, 'Images.Import', async (call) => {
      const { options, data } = await importParts(call);
      const res = await store.importer.import(data, { format: options.format, name: options.name, changes: options.changes, message: options.message });
      return { images: res.images.map(toImage), bytesRead: res.bytesRead, blobsWritten: res.blobsWritten };
    }),
    export: serverStream(log, 'Images.Export', async (req: imagesV1.ExportRequest, call) => {
      for await (const data of store.exporter.export(req.references, parseExportFormat(req.format))) await sendMessage(call, { data }, 'Images.Export');
    }),
    pull: serverStream(log, 'Images.Pull', async (req: imagesV1.PullRequest, call) => {
      const cancel = new AbortController();
      const onCancel = () => cancel.abort();
      call.once('cancelled', onCancel);
      const opts: Parameters<ImageStore['puller']['pull']>[1] = { insecureRegistries: req.insecureRegistries, platform: req.platform, signal: cancel.signal };
      if (req.username) opts.username = req.username;
      if (req.password) opts.password = req.password;
      try {
        for await (const ev of store.puller.pull(req.reference, opts)) {
          let msg: imagesV1.PullProgress;
          if (ev.type === 'resolved') msg = { event: { $case: 'resolved', value: { manifest: toDescriptor(ev.manifest), blobs: ev.blobs.map(toDescriptor) } } };
          else if (ev.type === 'blob') msg = { event: { $case: 'blob', value: { digest: ev.digest, offset: ev.offset, total: ev.total, status: ev.status } } };
          else msg = { event: { $case: 'done', value: toImage(ev.image) } };
          await sendMessage(call, msg, 'Images.Pull');
        }
      } finally {
        call.removeListener('cancelled', onCancel);
      }
    }),
    push: serverStream(log, 'Images.Push', async (req: imagesV1.PushRequest, call) => {
      const cancel = new AbortController();
      const onCancel = () => cancel.abort();
      call.once('cancelled', onCancel);
      const opts: Parameters<Pusher['push']>[1] = { insecureRegistries: req.insecureRegistries, signal: cancel.signal };
      if (req.username) opts.username = req.username;
      if (req.password) opts.password = req.password;
      if (req.target) opts.target = req.target;
      try {
        for await (const ev of pusher.push(req.reference, opts)) {
          let msg: imagesV1.PushProgress;
          if (ev.type === 'resolved') msg = { event: { $case: 'resolved', value: { manifest: toDescriptor(ev.manifest), blobs: ev.blobs.map(toDescriptor) } } };
          else if (ev.type === 'blob') msg = { event: { $case: 'blob', value: { digest: ev.digest, offset: ev.offset, total: ev.total, status: ev.status, mountedFrom: ev.mountedFrom ?? '' } } };
          else msg = { event: { $case: 'done', value: { reference: ev.reference, digest: ev.digest, size: ev.size, mediaType: ev.mediaType } } };
          await sendMessage(call, msg, 'Images.Push');
        }
      } finally {
        call.removeListener('cancelled', onCancel);
      }
    }),
    usage: unary(log, 'Images.Usage', async () => store.images.usage()),
  };
  return { name: 'berth.images.v1.Images', definition: imagesV1.ImagesService, implementation: impl };
}
