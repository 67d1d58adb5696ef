import { type Config, ConfigError } from '../config/index.js';
import { randomToken } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import type { OrganizationsService } from './organizations/organizations.service.js';
import type { UsersService } from './users/users.service.js';

export const DEFAULT_ORGANIZATION = 'default';

/**
 * First start: the default organization and the superadmin. Without PORTCULLIS_ADMIN_PASSWORD a
 * password is generated and handed to `announce` once (printed to stdout by `serve`).
 */
export async function bootstrap(
  config: Config,
  deps: { organizations: OrganizationsService; users: UsersService },
  announce: (message: string) => void,
): Promise<void> {
  if ((await deps.users.lookup.count()) > 0) return;
  const org = (await deps.organizations.findByName(DEFAULT_ORGANIZATION)) ?? (await deps.organizations.insertDefault(DEFAULT_ORGANIZATION));
  const given = config.admin.password?.unwrap();
  const password = given ?? randomToken(18);
  await namingTheVariables(() =>
    deps.users.provision(
      undefined,
      // The operator configured this address: it counts as verified (a reset can reach it).
      {
        userName: config.admin.username,
        email: config.admin.email,
        emailVerified: config.admin.email !== undefined,
        password,
        organizationId: org.id,
      },
      'bootstrap',
    ),
  );
  if (!given) {
    announce(
      `Created superadmin "${config.admin.username}" with generated password: ${password}\nIt is shown only this once; change it after signing in.`,
    );
  }
}

/** Why: at first start the request field paths mean nothing; the operator set environment variables. */
async function namingTheVariables<T>(create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (err instanceof AppError && err.code === 'password.policy_violation') {
      throw new ConfigError(`PORTCULLIS_ADMIN_PASSWORD does not meet the password policy (${err.detail ?? 'policy'})`);
    }
    if (err instanceof AppError && err.code === 'request.invalid') {
      throw new ConfigError(`PORTCULLIS_ADMIN_USERNAME or PORTCULLIS_ADMIN_EMAIL is not usable (${err.detail ?? 'invalid'})`);
    }
    throw err;
  }
}
