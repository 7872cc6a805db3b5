// Keys, off by default, as vLLM's --api-key: every inference route wants `Authorization: Bearer <api_key>`
// (or the key in the header auth_header_name names); /configure wants the admin key, or is switched off.
// Keys are compared in constant time and never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Next } from 'koa';
import { ApiError } from './errors.js';
import type { AppContext } from './request.js';
import { isServerPath } from './paths.js';

/** Equal-length digests, so neither the content nor the length of the key leaks through timing. */
function sameKey(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function bearer(ctx: AppContext): string {
  const h = ctx.req.headers.authorization ?? '';
  return /^Bearer\s+/i.test(h) ? h.replace(/^Bearer\s+/i, '').trim() : '';
}

/** The API key as the client sent it: `Authorization: Bearer <key>`, or the key itself in another header. */
function apiKeyOf(ctx: AppContext, header: string): string {
  const name = header.toLowerCase();
  if (name === 'authorization') return bearer(ctx);
  const v = ctx.req.headers[name];
  const h = (Array.isArray(v) ? v[0] : v) ?? '';
  return h.replace(/^Bearer\s+/i, '').trim();
}

const unauthorized = (header = 'Authorization'): ApiError =>
  // OpenAI's own 401 says invalid_request_error / invalid_api_key; clients key their handling on it.
  new ApiError(
    401,
    `Incorrect API key provided. Send it as ${header.toLowerCase() === 'authorization' ? 'Authorization: Bearer <key>' : `${header}: <key>`}.`,
    null,
    'invalid_api_key',
    'invalid_request_error',
  ).withHeaders({ 'www-authenticate': 'Bearer' });

/**
 * Anthropic's routes take the key as its clients send it: `x-api-key`, or `Authorization: Bearer` (its OAuth
 * clients), whatever auth_header_name says; Anthropic's words for a missing key and a wrong one.
 */
const ANTHROPIC_PATHS = /^\/v1\/messages(\/|$)/;

function checkAnthropicKey(ctx: AppContext, key: string): void {
  const given = apiKeyOf(ctx, 'x-api-key') || bearer(ctx);
  if (given === '') throw new ApiError(401, 'x-api-key header is required', null, 'invalid_api_key', 'authentication_error');
  if (!sameKey(given, key)) throw new ApiError(401, 'invalid x-api-key', null, 'invalid_api_key', 'authentication_error');
}

export async function requireKeys(ctx: AppContext, next: Next): Promise<void> {
  const s = ctx.state.settings;
  if (ctx.path === '/configure') {
    if (!s.configure) throw new ApiError(403, 'Run-time configuration is switched off on this server (--no-configure).', null, 'configure_disabled', 'permission_error');
    if (s.admin_key !== null && !sameKey(bearer(ctx), s.admin_key)) throw unauthorized();
  } else if (s.api_key !== null && ANTHROPIC_PATHS.test(ctx.path)) {
    checkAnthropicKey(ctx, s.api_key);
  } else if (s.api_key !== null && !isServerPath(ctx.method, ctx.path) && !sameKey(apiKeyOf(ctx, s.auth_header_name), s.api_key)) {
    throw unauthorized(s.auth_header_name);
  }
  return next();
}
