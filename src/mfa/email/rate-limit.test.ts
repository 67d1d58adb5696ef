import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors/index.js';
import { createMemoryState } from '../../state/shared-state.js';
import { createRateLimit } from './rate-limit.js';

describe('createRateLimit', () => {
  it('answers 429 with Retry-After once the window is spent, per key', async () => {
    const limit = createRateLimit(createMemoryState(), 'unit', 2, 60);
    await limit.consume('192.0.2.1');
    await limit.consume('192.0.2.1');
    const err = await limit.consume('192.0.2.1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('rate.limited');
    expect(Number((err as AppError).headers?.['retry-after'])).toBeGreaterThan(0);
    await limit.consume('192.0.2.2');
  });
});
