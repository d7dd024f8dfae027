// NATS names used by every berth service.

/** Every berth event subject starts with this. */
export const SUBJECT_PREFIX = 'berth.events';
/** The JetStream stream that keeps them. */
export const STREAM_NAME = 'BERTH_EVENTS';

/** "container.start" → "berth.events.container.start". */
export function subjectFor(topic: string): string {
  if (!/^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/.test(topic)) throw new Error(`event topic "${topic}" is not "<domain>.<action>"`);
  return `${SUBJECT_PREFIX}.${topic}`;
}

/** "berth.events.container.start" → "container.start". */
export function topicOf(subject: string): string {
  return subject.startsWith(SUBJECT_PREFIX + '.') ? subject.slice(SUBJECT_PREFIX.length + 1) : subject;
}
