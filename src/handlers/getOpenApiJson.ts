// GET /openapi.json: the contract as JSON, for tools that do not read YAML, naming the origin it was fetched from
// as its server.
import { contract } from '../contract.js';
import { requestOrigin, resolveServerUrl, type ServerEntry } from '../http/origin.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getOpenApiJson(_deps: Deps): OperationHandler {
  // A copy taken once: the document never changes while the server runs, only the origin its servers name does.
  const doc = structuredClone(contract()) as unknown as { servers?: ServerEntry[] };
  const asIs = JSON.stringify(doc);
  return (ctx) => {
    const origin = requestOrigin(ctx);
    ctx.type = 'application/json; charset=utf-8';
    ctx.body =
      origin && doc.servers
        ? JSON.stringify({ ...doc, servers: doc.servers.map((s) => ({ ...s, url: resolveServerUrl(s.url, origin) })) })
        : asIs;
  };
}
