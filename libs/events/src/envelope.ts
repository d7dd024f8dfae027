// Building and (de)serialising the event envelope (proto/berth/events/v1/envelope.proto).
import { randomUUID } from 'node:crypto';
import { eventsV1 } from '@berth/api';

export type Envelope = eventsV1.Envelope;
export type EnvelopeBody = NonNullable<Envelope['body']>;

export interface NewEvent {
  topic: string;
  subjectId: string;
  attributes?: Record<string, string>;
  body?: EnvelopeBody;
  time?: Date;
}

export function makeEnvelope(source: string, node: string, ev: NewEvent): Envelope {
  return {
    id: randomUUID(),
    time: ev.time ?? new Date(),
    topic: ev.topic,
    source,
    node,
    subjectId: ev.subjectId,
    attributes: ev.attributes ?? {},
    body: ev.body,
  };
}

/** The JSON mapping published on NATS. */
export function envelopeToJson(env: Envelope): string {
  return JSON.stringify(eventsV1.Envelope.toJSON(env));
}

export function envelopeFromJson(text: string): Envelope {
  return eventsV1.Envelope.fromJSON(JSON.parse(text));
}
