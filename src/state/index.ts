export { createMemoryState, createRedisState, createSharedState, type SharedState } from './shared-state.js';
