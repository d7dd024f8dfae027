// The part of @berth/events' EventBus networking uses; optional so the domain classes run without NATS.
import type { EventBus } from '@berth/events';

export type EventPublisher = Pick<EventBus, 'publish'>;
