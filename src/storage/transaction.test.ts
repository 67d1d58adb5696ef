import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorage, type Storage } from './db.js';

/** `storage.transaction(fn)` on SQLite, and on PostgreSQL when PORTCULLIS_DATABASE_URL is set. */
const PG_URL = process.env.PORTCULLIS_DATABASE_URL;
let storage: Storage;
let schema: string | undefined;

beforeAll(async () => {
  if (PG_URL) {
    schema = `tx_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
  }
  storage = createStorage({
    url: PG_URL ?? 'sqlite::memory:',
    dataDir: '/tmp/portcullis-unit-unused',
    ...(schema ? { pgSchema: schema } : {}),
  });
  await storage.migrate();
});
afterAll(async () => {
  await storage?.close();
  if (PG_URL && schema) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  }
});

const org = (name: string) => ({ id: randomBytes(8).toString('hex'), name, policy: '{}', createdAt: 'x', updatedAt: 'x' });
const count = async (name: string) => (await storage.db.selectFrom('organizations').select('id').where('name', '=', name).execute()).length;

describe('storage.transaction', () => {
  it('commits what repos on the executor wrote inside it', async () => {
    const name = `commit-${randomBytes(3).toString('hex')}`;
    await storage.transaction(async () => {
      await storage.executor.insertInto('organizations').values(org(name)).execute();
    });
    expect(await count(name)).toBe(1);
  });

  it('rolls every write back when fn throws, nested calls included', async () => {
    const name = `rollback-${randomBytes(3).toString('hex')}`;
    await expect(
      storage.transaction(async () => {
        await storage.executor.insertInto('organizations').values(org(name)).execute();
        await storage.transaction(async () => {
          await storage.executor
            .insertInto('organizations')
            .values(org(`${name}-inner`))
            .execute();
        });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await count(name)).toBe(0);
    expect(await count(`${name}-inner`)).toBe(0);
  });

  it('sends work that outlives the transaction to the database, not to the finished transaction', async () => {
    const name = `later-${randomBytes(3).toString('hex')}`;
    let later: Promise<unknown> | undefined;
    await storage.transaction(async () => {
      later = new Promise((resolve) => setTimeout(resolve, 20)).then(() =>
        storage.executor.insertInto('organizations').values(org(name)).execute(),
      );
    });
    await later;
    expect(await count(name)).toBe(1);
  });

  it('runs afterCommit work once the transaction committed, never after a rollback, and at once outside one', async () => {
    const seen: string[] = [];
    await storage.transaction(async () => {
      await storage.afterCommit(async () => {
        seen.push('committed');
      });
      seen.push('inside');
    });
    await storage
      .transaction(async () => {
        await storage.afterCommit(async () => {
          seen.push('rolled back');
        });
        throw new Error('boom');
      })
      .catch(() => {});
    await storage.afterCommit(async () => {
      seen.push('outside');
    });
    expect(seen).toEqual(['inside', 'committed', 'outside']);
  });
});
