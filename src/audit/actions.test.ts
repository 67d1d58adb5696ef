import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, changesAccount } from './actions.js';

/** Rows of the table in docs/audit.md: | `action` | yes/no | description | */
function documented(): Map<string, { account: boolean; description: string }> {
  const text = readFileSync(new URL('../../docs/audit.md', import.meta.url), 'utf8');
  const rows = new Map<string, { account: boolean; description: string }>();
  for (const line of text.split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|\s*(yes|no)\s*\|\s*(.*?)\s*\|$/.exec(line);
    if (m) rows.set(m[1]!, { account: m[2] === 'yes', description: m[3]! });
  }
  return rows;
}

describe('audit action catalogue', () => {
  it('matches docs/audit.md exactly', () => {
    const docs = documented();
    expect([...docs.keys()].sort()).toEqual(Object.keys(AUDIT_ACTIONS).sort());
    for (const [action, spec] of Object.entries(AUDIT_ACTIONS)) expect(docs.get(action), action).toEqual(spec);
  });

  it('names actions domain.entity_past_tense', () => {
    for (const action of Object.keys(AUDIT_ACTIONS)) expect(action).toMatch(/^[a-z_]+\.[a-z_]+$/);
  });

  it('drops account views for account actions, and for anything it does not know', () => {
    expect(changesAccount('user.updated')).toBe(true);
    expect(changesAccount('login.revealed')).toBe(false);
    expect(changesAccount('constructor')).toBe(true);
  });
});
