// Where the domain classes report state changes: the service's event bus, or a plain array in tests.
import type { NewEvent } from '@berth/events';

export interface EventSink {
  publish(ev: NewEvent): unknown;
}

export const NO_EVENTS: EventSink = { publish: () => undefined };

export function contentEvent(topic: 'content.create' | 'content.delete', digest: string, size: number): NewEvent {
  return { topic, subjectId: digest, attributes: { digest, size: String(size) }, body: { $case: 'content', value: { digest, size } } };
}

/** image.push: `name` is the reference pushed to, the target the manifest digest the registry holds. */
export function imageEvent(topic: 'image.create' | 'image.update' | 'image.tag' | 'image.delete' | 'image.push', name: string, targetDigest: string): NewEvent {
  return { topic, subjectId: name, attributes: { name, target: targetDigest }, body: { $case: 'image', value: { name, targetDigest } } };
}
