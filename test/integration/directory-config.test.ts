import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/test-app.js';

/**
 * Seed 003 with PORTCULLIS_REVOKE_SESSIONS_ON_PASSWORD_SET=false. Its own file (and app): on
 * PostgreSQL two apps must not migrate side by side in one database (see the report on issue 6).
 */

const NEW_PASSWORD = '$eCreTP@$$W0rD-42';

describe('seed 003 with session revocation turned off', () => {
  it('keeps sessions when PORTCULLIS_REVOKE_SESSIONS_ON_PASSWORD_SET=false', async () => {
    const other = await buildTestApp({ PORTCULLIS_REVOKE_SESSIONS_ON_PASSWORD_SET: 'false' });
    try {
      const hooked: string[] = [];
      other.app.services.events.on('user.access_revoked', ({ userId }) => {
        hooked.push(userId);
      });
      const admin = await other.createUser({ roles: ['admin'] });
      const key = await other.createApiKey(admin.id, ['credentials:write']);
      const user = await other.createUser({});
      const res = await other.req('POST', `/api/v1/users/addUserCredentials/${user.userName}`, {
        json: { userName: user.userName, password: NEW_PASSWORD },
        headers: { authorization: `Basic ${Buffer.from(`${key.key}:${key.secret}`).toString('base64')}` },
      });
      expect(res.status).toBe(200);
      expect(hooked).toEqual([]);
      const [event] = await other.app.services.audit.list({ organizationId: other.defaultOrgId, action: 'user.password_set', limit: 1 });
      expect(event?.data).toMatchObject({ revokedSessions: false });
    } finally {
      await other.close();
    }
  });
});
