import type { Command } from 'commander';
import { isScope, type Scope } from '../auth/index.js';
import { AppError } from '../errors/index.js';
import { DEFAULT_ORGANIZATION } from '../identity/index.js';
import { operatorContext, withApp } from './context.js';

async function orgId(app: Parameters<Parameters<typeof withApp>[0]>[0], name: string): Promise<string> {
  const org = await app.services.organizations.findByName(name);
  if (!org) throw new AppError('resource.not_found', { detail: `no organization named ${name}` });
  return org.id;
}

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('Administer organizations, users and API keys');

  admin
    .command('create-org <name>')
    .description('Create an organization')
    .action(async (name: string) => {
      await withApp(async (app) => {
        const org = await app.services.organizations.create(operatorContext('cli'), { name });
        console.log(JSON.stringify({ id: org.id, name: org.name }));
      });
    });

  admin
    .command('create-user <userName>')
    .description('Create a user (password read from PORTCULLIS_NEW_PASSWORD or --password)')
    .option('--org <name>', 'organization name', DEFAULT_ORGANIZATION)
    .option('--email <email>')
    .option('--password <password>', 'initial password (prefer PORTCULLIS_NEW_PASSWORD: it stays out of shell history)')
    .option('--role <role...>', 'roles: owner, admin, member', ['member'])
    .option('--type <userType>', 'USER, SERVICE_ACCOUNT or WORKLOAD_IDENTITY', 'USER')
    .action(async (userName: string, opts: { org: string; email?: string; password?: string; role: string[]; type: string }) => {
      await withApp(async (app) => {
        const organizationId = await orgId(app, opts.org);
        const { user, serviceKey } = await app.services.users.create(operatorContext(organizationId), {
          userName,
          email: opts.email,
          password: opts.password ?? process.env.PORTCULLIS_NEW_PASSWORD,
          roles: opts.role,
          userType: opts.type as 'USER',
          organizationId,
        });
        console.log(JSON.stringify({ id: user.id, userName: user.userName, ...(serviceKey ? { serviceKey } : {}) }));
      });
    });

  admin
    .command('create-api-key <userName> <name>')
    .description('Create an API key owned by a user; prints the secret once')
    .option('--scope <scope...>', "scopes (default: the owner's)")
    .action(async (userName: string, name: string, opts: { scope?: string[] }) => {
      await withApp(async (app) => {
        const owner = await app.services.users.lookup.findByUserName(userName);
        if (!owner) throw new AppError('resource.not_found', { detail: `no user ${userName}` });
        const bad = (opts.scope ?? []).filter((s) => !isScope(s));
        if (bad.length) throw new AppError('request.invalid', { detail: `unknown scopes ${bad.join(', ')}` });
        const ctx = operatorContext(owner.organizationId, owner.id);
        const principal = { ...ctx.principal!, roles: owner.roles, isSuperadmin: owner.roles.includes('superadmin') };
        const { apiKey, clientSecret } = await app.services.apiKeys.create(
          { ...ctx, principal },
          { name, scopes: opts.scope as Scope[] | undefined },
        );
        console.log(JSON.stringify({ id: apiKey.id, key: apiKey.publicKey, clientSecret }));
      });
    });

  admin
    .command('create-client <name>')
    .description('Register an application that signs people in through Portcullis (OpenID Connect); prints the client secret once')
    .option('--org <name>', 'organization name', DEFAULT_ORGANIZATION)
    .option('--redirect-uri <uri...>', 'redirect URIs (exact match)')
    .option('--post-logout-redirect-uri <uri...>', 'where RP-initiated logout may return')
    .option('--grant-type <type...>', 'authorization_code, refresh_token, client_credentials (default: the first two)')
    .option('--auth-method <method>', 'client_secret_basic, client_secret_post, private_key_jwt or none (public client, PKCE)')
    .option('--scope <scope...>', 'allowed scopes (default: openid profile email groups offline_access)')
    .option('--first-party', 'people are not asked for consent')
    .action(
      async (
        name: string,
        opts: {
          org: string;
          redirectUri?: string[];
          postLogoutRedirectUri?: string[];
          grantType?: string[];
          authMethod?: string;
          scope?: string[];
          firstParty?: boolean;
        },
      ) => {
        await withApp(async (app) => {
          const organizationId = await orgId(app, opts.org);
          const { client, clientSecret } = await app.services.oauthClients.create(
            operatorContext(organizationId),
            {
              name,
              redirectUris: opts.redirectUri,
              postLogoutRedirectUris: opts.postLogoutRedirectUri,
              grantTypes: opts.grantType,
              tokenEndpointAuthMethod: opts.authMethod,
              allowedScopes: opts.scope,
              firstParty: opts.firstParty === true,
            },
            organizationId,
          );
          console.log(
            JSON.stringify({ clientId: client.clientId, ...(clientSecret ? { clientSecret } : {}), issuer: app.services.config.publicUrl }),
          );
        });
      },
    );

  admin
    .command('set-password <userName>')
    .description("Set a user's password (read from PORTCULLIS_NEW_PASSWORD or --password)")
    .option('--password <password>')
    .option('--must-change', 'require a change at next sign-in')
    .option('--keep-sessions', "do not revoke the user's sessions and API keys")
    .action(async (userName: string, opts: { password?: string; mustChange?: boolean; keepSessions?: boolean }) => {
      const password = opts.password ?? process.env.PORTCULLIS_NEW_PASSWORD;
      if (!password) throw new AppError('request.invalid', { detail: 'give --password or PORTCULLIS_NEW_PASSWORD' });
      await withApp(async (app) => {
        const user = await app.services.users.lookup.findByUserName(userName);
        if (!user) throw new AppError('resource.not_found', { detail: `no user ${userName}` });
        await app.services.users.setPassword(operatorContext(user.organizationId), user, password, {
          mustChange: opts.mustChange ?? false,
          revokeAccess: !opts.keepSessions,
        });
        console.log(`Password set for ${user.userName}.`);
      });
    });
}
