export * from './account.service.js';
export * from './cookies.js';
export * from './sessions.repo.js';
export * from './sessions.routes.js';
export * from './sessions.service.js';
export * from './signing-keys.js';
export * from './throttle.js';
export * from './tokens.js';
