export { type BroadcastTopics, createEventBus, type DomainEvents, type EventBus, type EventBusDeps, type RevocationReason } from './bus.js';
