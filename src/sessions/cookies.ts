import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import { ACCESS_COOKIE, REFRESH_COOKIE, USER_COOKIE } from '../http/index.js';

/** `Secure` when the public URL is https or the request came over https. */
const secure = (req: FastifyRequest, config: Config): boolean => config.publicUrl.startsWith('https:') || req.protocol === 'https';

/**
 * Bytebase's web mode: `access-token` and `refresh-token` (HttpOnly, Path=/, SameSite=Lax) and a
 * readable `user` cookie holding `users/{id}`.
 */
export function setSessionCookies(
  req: FastifyRequest,
  reply: FastifyReply,
  config: Config,
  tokens: { token: string; refreshToken: string; expiresIn: number },
  userId: string,
): void {
  const base = { path: '/', sameSite: 'lax' as const, secure: secure(req, config) };
  reply.setCookie(ACCESS_COOKIE, tokens.token, { ...base, httpOnly: true, maxAge: tokens.expiresIn });
  reply.setCookie(REFRESH_COOKIE, tokens.refreshToken, { ...base, httpOnly: true, maxAge: config.sessionAbsoluteTtlSeconds });
  reply.setCookie(USER_COOKIE, `users/${userId}`, { ...base, httpOnly: false, maxAge: config.sessionAbsoluteTtlSeconds });
}

/** Clears the three cookies with `Expires=Thu, 01 Jan 1970 00:00:00 GMT`. */
export function clearSessionCookies(req: FastifyRequest, reply: FastifyReply, config: Config): void {
  const base = { path: '/', sameSite: 'lax' as const, secure: secure(req, config), expires: new Date(0) };
  reply.setCookie(ACCESS_COOKIE, '', { ...base, httpOnly: true });
  reply.setCookie(REFRESH_COOKIE, '', { ...base, httpOnly: true });
  reply.setCookie(USER_COOKIE, '', { ...base, httpOnly: false });
}
