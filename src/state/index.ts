export { createRateLimit, type RateLimit, type RateLimitOptions, type RateLimitResult, rateLimited } from './rate-limit.js';
export { createMemoryState, createRedisState, createSharedState, type SharedState } from './shared-state.js';
