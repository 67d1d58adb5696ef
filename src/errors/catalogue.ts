/** gRPC canonical status numbers, as Bytebase's clients read them from `code`. */
export const Grpc = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export interface ErrorSpec {
  status: number;
  grpc: number;
  message: string;
}

const spec = (status: number, grpc: number, message: string): ErrorSpec => ({ status, grpc, message });

/**
 * Every public error id. `docs/errors.md` lists the same table; a test keeps them in step.
 * Messages are generic on purpose: the specific reason goes into `AppError.detail`, which is never sent.
 */
export const ERROR_CATALOGUE = {
  'request.invalid': spec(400, Grpc.INVALID_ARGUMENT, 'The request is invalid.'),
  'request.malformed_body': spec(400, Grpc.INVALID_ARGUMENT, 'The request body could not be parsed.'),
  'request.headers_too_large': spec(431, Grpc.INVALID_ARGUMENT, 'The request headers are too large.'),
  'request.too_large': spec(413, Grpc.INVALID_ARGUMENT, 'The request body is too large.'),
  'request.unsupported_media_type': spec(415, Grpc.INVALID_ARGUMENT, 'The content type is not supported; send application/json.'),
  'request.cross_site': spec(403, Grpc.PERMISSION_DENIED, 'Cross-site requests are not allowed.'),
  'route.not_found': spec(404, Grpc.NOT_FOUND, 'No such route.'),
  'method.not_allowed': spec(405, Grpc.INVALID_ARGUMENT, 'Method not allowed.'),
  'resource.not_found': spec(404, Grpc.NOT_FOUND, 'The resource was not found.'),
  'resource.conflict': spec(409, Grpc.ALREADY_EXISTS, 'The resource already exists.'),
  'auth.unauthenticated': spec(401, Grpc.UNAUTHENTICATED, 'Authentication is required.'),
  'auth.invalid_credentials': spec(401, Grpc.UNAUTHENTICATED, 'Invalid credentials.'),
  'auth.forbidden': spec(403, Grpc.PERMISSION_DENIED, 'You do not have permission to do this.'),
  'auth.password_change_required': spec(403, Grpc.FAILED_PRECONDITION, 'The password must be changed first.'),
  'auth.mfa_enrollment_required': spec(403, Grpc.FAILED_PRECONDITION, 'Multi-factor authentication must be enrolled first.'),
  'auth.web_login_not_allowed': spec(403, Grpc.PERMISSION_DENIED, 'This account cannot sign in to the web console.'),
  'auth.invalid_mfa_code': spec(401, Grpc.UNAUTHENTICATED, 'The verification code is invalid.'),
  'auth.invalid_token': spec(401, Grpc.UNAUTHENTICATED, 'The token is invalid or expired.'),
  'password.policy_violation': spec(400, Grpc.INVALID_ARGUMENT, 'The password does not meet the policy.'),
  'rate.limited': spec(429, Grpc.RESOURCE_EXHAUSTED, 'Too many attempts. Try again later.'),
  'service.unavailable': spec(503, Grpc.UNAVAILABLE, 'The service is temporarily unavailable.'),
  'mail.not_configured': spec(400, Grpc.FAILED_PRECONDITION, 'Email delivery is not configured.'),
  'vault.ambiguous_login': spec(409, Grpc.ALREADY_EXISTS, 'The identifiers match more than one login.'),
  'vault.no_totp_secret': spec(409, Grpc.FAILED_PRECONDITION, 'The login has no TOTP secret.'),
  'vault.email_code_not_received': spec(404, Grpc.NOT_FOUND, 'No email code has been received yet.'),
  'vault.session_not_persisted': spec(409, Grpc.FAILED_PRECONDITION, 'The login does not persist its session.'),
  'vault.session_not_found': spec(404, Grpc.NOT_FOUND, 'No session is stored for this login.'),
  'vault.secret_unreadable': spec(500, Grpc.INTERNAL, 'A stored secret could not be decrypted.'),
  'scim.invalid_filter': spec(400, Grpc.INVALID_ARGUMENT, 'The filter is invalid or not supported.'),
  'scim.invalid_path': spec(400, Grpc.INVALID_ARGUMENT, 'The attribute path is invalid.'),
  'scim.invalid_syntax': spec(400, Grpc.INVALID_ARGUMENT, 'The request is not valid SCIM.'),
  'scim.invalid_value': spec(400, Grpc.INVALID_ARGUMENT, 'An attribute value is invalid.'),
  'scim.mutability': spec(400, Grpc.INVALID_ARGUMENT, 'The attribute cannot be changed.'),
  'scim.no_target': spec(400, Grpc.INVALID_ARGUMENT, 'The path matched no value.'),
  'scim.too_many': spec(400, Grpc.INVALID_ARGUMENT, 'The filter would scan too many resources; filter by an indexed attribute.'),
  server_error: spec(500, Grpc.INTERNAL, 'Internal server error.'),
  'idp.invalid_flow': spec(400, Grpc.INVALID_ARGUMENT, 'The sign-in attempt is invalid or has expired.'),
  'idp.unavailable': spec(503, Grpc.UNAVAILABLE, 'The identity provider is unavailable.'),
  'mfa.no_pending_enrollment': spec(400, Grpc.FAILED_PRECONDITION, 'No multi-factor enrolment is in progress, or it has expired.'),
  'mfa.not_enabled': spec(400, Grpc.FAILED_PRECONDITION, 'Multi-factor authentication is not enabled.'),
  'user.last_owner': spec(409, Grpc.FAILED_PRECONDITION, 'The last owner of an organization cannot be demoted, suspended or deleted.'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
