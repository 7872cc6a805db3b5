// openapi.yaml names this server by a relative URL ("/"). The copies of the contract it serves name the origin
// the request was addressed to instead, so that a tool pointed at /openapi.json reaches the server it read it from.
import type { AppContext } from './request.js';

/** A server entry of openapi.yaml: only its url is rewritten. */
export interface ServerEntry {
  url: string;
  [key: string]: unknown;
}

// A host name, an IPv4 or a bracketed IPv6 address, then an optional port: nothing that could carry markup or
// another URL. A Host header that is anything else is not echoed; the document then stays relative.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::\d{1,5})?$/;

/** `scheme://host[:port]` as the client addressed this request, or undefined when its Host is absent or odd. */
export function requestOrigin(ctx: AppContext): string | undefined {
  // The header as sent: Koa's ctx.host would first drop a user@ part or all after a comma, and so accept a value
  // that no client sends for this server.
  const host = ctx.req.headers.host;
  if (host === undefined || !HOST.test(host)) return undefined;
  try {
    return new URL(`${ctx.protocol}://${host}`).origin; // normalized: lower case, no default port
  } catch {
    return undefined; // a port above 65535, an IPv6 address that does not parse
  }
}

/** True for a URL with neither scheme nor host: it is resolved against the document's own address. */
export function isRelative(url: string): boolean {
  return !/^[A-Za-z][A-Za-z0-9+.-]*:|^\/\//.test(url);
}

/** A relative server URL made absolute against `origin`, without the trailing slash (as Redoc shows it). */
export function resolveServerUrl(url: string, origin: string): string {
  return isRelative(url) ? new URL(url, `${origin}/`).href.replace(/\/$/, '') : url;
}
