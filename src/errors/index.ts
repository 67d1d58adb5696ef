export { AppError, type AppErrorOptions, assertThat } from './app-error.js';
export { ERROR_CATALOGUE, type ErrorCode, type ErrorSpec, Grpc } from './catalogue.js';
