// berth.inspector.v1.Inspector over gRPC: a thin adapter over InspectorService.
import type { ServerWritableStream } from '@grpc/grpc-js';
import { inspectorV1 } from '@berth/api';
import { serverStream, unary, writeMessage, type Logger, type ServiceRegistration } from '@berth/service-kit';
import type { InspectorService } from '../inspector-service';

/** Aborts when the client cancels the stream. */
function cancelSignal(call: ServerWritableStream<unknown, unknown>): AbortSignal {
  const ac = new AbortController();
  call.once('cancelled', () => ac.abort());
  call.once('close', () => ac.abort());
  return ac.signal;
}

export function inspectorService(svc: InspectorService, log: Logger): ServiceRegistration {
  const impl: inspectorV1.InspectorServer = {
    inspect: unary(log, 'Inspector.Inspect', async (req: inspectorV1.InspectRequest) => ({ json: JSON.stringify(await svc.inspect(req.id, req.size)) })),
    inspectImage: unary(log, 'Inspector.InspectImage', async (req: inspectorV1.InspectRequest) => ({ json: JSON.stringify(await svc.inspectImage(req.id)) })),
    top: unary(log, 'Inspector.Top', (req: inspectorV1.TopRequest) => svc.top(req.id, req.psArgs)),
    list: unary(log, 'Inspector.List', (req: inspectorV1.ListRequest) => svc.list(req)),
    stats: serverStream(log, 'Inspector.Stats', (req: inspectorV1.StatsRequest, call) =>
      svc.stats(req.ids, req.stream, (m) => writeMessage(call, m), cancelSignal(call as ServerWritableStream<unknown, unknown>)),
    ),
    events: serverStream(log, 'Inspector.Events', (req: inspectorV1.EventsRequest, call) =>
      svc.events(req, (m) => writeMessage(call, m), cancelSignal(call as ServerWritableStream<unknown, unknown>)),
    ),
  };
  return { name: 'berth.inspector.v1.Inspector', definition: inspectorV1.InspectorService, implementation: impl as never };
}
