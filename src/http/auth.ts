// Keys, off by default, as vLLM's --api-key: every /v1 route wants `Authorization: Bearer <api_key>`;
// /configure wants the admin key, or is switched off. Keys are compared in constant time and never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Next } from 'koa';
import { ApiError } from './errors.js';
import type { AppContext } from './request.js';

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

const unauthorized = (): ApiError =>
  // OpenAI's own 401 says invalid_request_error / invalid_api_key; clients key their handling on it.
  new ApiError(401, 'Incorrect API key provided. Send it as Authorization: Bearer <key>.', null, 'invalid_api_key', 'invalid_request_error').withHeaders({
    'www-authenticate': 'Bearer',
  });

export async function requireKeys(ctx: AppContext, next: Next): Promise<void> {
  const s = ctx.state.settings;
  if (ctx.path.startsWith('/v1/') || ctx.path === '/v1') {
    if (s.api_key !== null && !sameKey(bearer(ctx), s.api_key)) throw unauthorized();
  } else if (ctx.path === '/configure') {
    if (!s.configure) throw new ApiError(403, 'Run-time configuration is switched off on this server (--no-configure).', null, 'configure_disabled', 'permission_error');
    if (s.admin_key !== null && !sameKey(bearer(ctx), s.admin_key)) throw unauthorized();
  }
  return next();
}
