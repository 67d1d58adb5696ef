import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from './catalogue.js';

/** Rows of the table in docs/errors.md: | `id` | status | grpc | message | */
function documented(): Map<string, { status: number; grpc: number; message: string }> {
  const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, { status: number; grpc: number; message: string }>();
  for (const line of text.split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(.*?)\s*\|$/.exec(line);
    if (m) rows.set(m[1]!, { status: Number(m[2]), grpc: Number(m[3]), message: m[4]! });
  }
  return rows;
}

describe('error catalogue', () => {
  it('matches docs/errors.md exactly', () => {
    const docs = documented();
    expect([...docs.keys()].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
    for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
      expect(docs.get(code), code).toEqual({ status: spec.status, grpc: spec.grpc, message: spec.message });
    }
  });

  it('uses gRPC canonical numbers that fit the HTTP status', () => {
    for (const spec of Object.values(ERROR_CATALOGUE)) {
      expect([3, 5, 6, 7, 8, 9, 13, 14, 16]).toContain(spec.grpc);
      if (spec.status === 401) expect(spec.grpc).toBe(16);
      if (spec.status === 404) expect(spec.grpc).toBe(5);
    }
  });
});
