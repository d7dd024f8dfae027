export * from './subjects';
export * from './envelope';
export * from './event-bus';
export { Outbox } from './outbox';
