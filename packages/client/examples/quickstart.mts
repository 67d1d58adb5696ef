// PC=http://localhost:8080 ADMIN_PASSWORD='…' npx tsx quickstart.mts
import { createApiKey, createPortcullisClient, getCurrentUser, login, upsertLogin } from '@portcullis/client';

const baseUrl = process.env.PC ?? 'http://localhost:8080';

// Sign in with a client that holds no credential. A refusal comes back as a typed error body.
const signIn = await login({
  client: createPortcullisClient({ baseUrl }),
  body: { username: 'admin', password: process.env.ADMIN_PASSWORD ?? '' },
});
if (signIn.error) throw new Error(`${signIn.response.status} ${signIn.error.error}: ${signIn.error.message}`);

// Act as the signed-in user: the access token goes as `Authorization: Bearer`, and only so.
const session = createPortcullisClient({ baseUrl, token: signIn.data.token });
const { data: me } = await getCurrentUser({ client: session, throwOnError: true });
console.log(`signed in as ${me.user.userName} in organization ${me.user.organizationId}`);

// An API key for automation: clientSecret is its secret, shown in this answer only.
const { data: key } = await createApiKey({
  client: session,
  throwOnError: true,
  body: { name: 'sdk quickstart', scopes: ['logins:read', 'logins:write'] },
});
const automation = createPortcullisClient({ baseUrl, apiKey: key.clientSecret });

// Store a login in the vault with that key (matched by username, email or phone: run it twice, one login).
const { data: stored } = await upsertLogin({
  client: automation,
  throwOnError: true,
  body: {
    name: 'Supplier portal',
    authenticationUrl: 'https://portal.example/login',
    homeUrl: 'https://portal.example/',
    loginConfiguration: { email: 'ops@example.com', password: 'correct supplier passphrase' },
  },
});
console.log(`vault login ${stored.id}: password stored ${stored.loginConfiguration.hasPassword}`);
