// Volume events: topics volume.create, volume.destroy, volume.mount, volume.unmount with docker's attributes
// (driver, container, destination, read/write) and the typed VolumeEvent body. The subject is the volume's
// name, so the events of one volume keep their order.
export interface VolumeEventBody {
  name: string;
  driver: string;
  containerId: string;
  destination: string;
  readOnly: boolean;
}

export interface VolumeEventSink {
  publish(ev: { topic: string; subjectId: string; attributes?: Record<string, string>; body?: { $case: 'volume'; value: VolumeEventBody } }): unknown;
}

export interface VolumeEventExtra {
  containerId?: string;
  destination?: string;
  readOnly?: boolean;
}

export function publishVolumeEvent(sink: VolumeEventSink | undefined, topic: string, name: string, extra: VolumeEventExtra = {}): void {
  if (!sink) return;
  const attributes: Record<string, string> = { driver: 'local' };
  if (extra.containerId) attributes.container = extra.containerId;
  if (topic === 'volume.mount') {
    attributes.destination = extra.destination ?? '';
    attributes['read/write'] = String(!extra.readOnly);
    attributes.propagation = '';
  }
  sink.publish({
    topic,
    subjectId: name,
    attributes,
    body: {
      $case: 'volume',
      value: { name, driver: 'local', containerId: extra.containerId ?? '', destination: extra.destination ?? '', readOnly: !!extra.readOnly },
    },
  });
}
