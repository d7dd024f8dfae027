// Container events as the supervisor publishes them: topic container.<action> (or exec.<action>), Docker-style
// attributes (name, image, exitCode, signal, ...), and the typed ContainerEvent body.
import type { containersV1 } from '@berth/api';

export interface EventSink {
  publish(ev: {
    topic: string;
    subjectId: string;
    attributes?: Record<string, string>;
    body?: { $case: 'container'; value: ContainerEventBody };
  }): unknown;
}

export interface ContainerEventBody {
  containerId: string;
  name: string;
  image: string;
  exitCode: number;
  signal: string;
  oomKilled: boolean;
  execId: string;
  pid: number;
}

export interface EventExtra {
  exitCode?: number;
  signal?: string;
  oomKilled?: boolean;
  execId?: string;
  pid?: number;
  attributes?: Record<string, string>;
}

export function publishContainerEvent(sink: EventSink | undefined, topic: string, ctr: containersV1.Container, extra: EventExtra = {}): void {
  if (!sink) return;
  const image = ctr.config?.image ?? '';
  const attributes: Record<string, string> = { name: ctr.name, image, ...(extra.attributes ?? {}) };
  if (extra.exitCode !== undefined) attributes.exitCode = String(extra.exitCode);
  if (extra.signal) attributes.signal = extra.signal;
  if (extra.oomKilled) attributes.oomKilled = 'true';
  if (extra.execId) attributes.execID = extra.execId;
  for (const [k, v] of Object.entries(ctr.config?.labels ?? {})) if (!(k in attributes)) attributes[k] = v;
  sink.publish({
    topic,
    subjectId: ctr.id,
    attributes,
    body: {
      $case: 'container',
      value: {
        containerId: ctr.id,
        name: ctr.name,
        image,
        exitCode: extra.exitCode ?? 0,
        signal: extra.signal ?? '',
        oomKilled: extra.oomKilled ?? false,
        execId: extra.execId ?? '',
        pid: extra.pid ?? 0,
      },
    },
  });
}
