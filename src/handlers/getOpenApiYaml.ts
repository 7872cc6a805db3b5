// GET /openapi.yaml: the contract this server routes and validates with, as the file it was read from, except
// that its relative server URLs name the origin it was fetched from.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { contractPath } from '../contract.js';
import { isRelative, requestOrigin, resolveServerUrl } from '../http/origin.js';
import type { Deps, OperationHandler } from './deps.js';

/** Where a relative server URL sits in the text: its value is replaced there and nothing else moves. */
interface UrlSpan {
  url: string;
  start: number;
  end: number;
}

interface ServedText {
  text: string;
  bytes: Buffer;
  spans: UrlSpan[];
}

export default function getOpenApiYaml(_deps: Deps): OperationHandler {
  // Read on the first request: finding the spans parses the whole YAML, which a start should not wait for.
  let served: ServedText | undefined;
  const serve = (): ServedText => {
    if (!served) {
      const text = readFileSync(contractPath, 'utf8');
      served = { text, bytes: Buffer.from(text), spans: relativeServerUrls(text) };
    }
    return served;
  };
  return (ctx) => {
    const { text, bytes, spans } = serve();
    const origin = requestOrigin(ctx);
    ctx.type = 'application/yaml; charset=utf-8';
    if (!origin || spans.length === 0) {
      ctx.body = bytes;
      return;
    }
    let out = '';
    let at = 0;
    for (const { url, start, end } of spans) {
      // A JSON string is a YAML double-quoted scalar; the origin has passed requestOrigin's check anyway.
      out += text.slice(at, start) + JSON.stringify(resolveServerUrl(url, origin));
      at = end;
    }
    ctx.body = out + text.slice(at);
  };
}

function relativeServerUrls(text: string): UrlSpan[] {
  const servers = parseDocument(text).get('servers', true);
  if (!isSeq(servers)) return [];
  return servers.items.flatMap((server) => {
    const url = isMap(server) ? server.get('url', true) : undefined;
    if (!isScalar(url) || typeof url.value !== 'string' || !url.range || !isRelative(url.value)) return [];
    return [{ url: url.value, start: url.range[0], end: url.range[1] }];
  });
}
