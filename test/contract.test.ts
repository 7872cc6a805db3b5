// Contract tests driven by openapi.yaml alone: every operation is called with every request example the contract
// gives (or once, when it takes no body) on a real server, and the status, the headers and the body are checked
// against what the contract declares for that status and content type; every SSE chunk of a stream is checked
// against the stream's schema up to `data: [DONE]` (or to the close, where the media type says
// `x-done-sentinel: false`, as TGI's streams end). An operation in the contract that the server does not
// implement (no handler: 501) fails the suite, and so does one that no example reaches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { contractPath } from '../src/contract.js';
import { defaultSettings } from '../src/settings.js';
import { readSse, startServer, type RunningServer } from './support/server.js';
import { ajv, validatorAt } from './support/spec.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface MediaObject {
  schema?: Json;
  example?: Json;
  examples?: Record<string, { summary?: string; value?: Json; $ref?: string }>;
}
interface ResponseObject {
  $ref?: string;
  description?: string;
  headers?: Record<string, { $ref?: string; required?: boolean; schema?: Json }>;
  content?: Record<string, MediaObject>;
}
interface ParameterObject {
  $ref?: string;
  name: string;
  in: string;
  required?: boolean;
  example?: Json;
  schema?: Json;
}
interface OperationObject {
  operationId: string;
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; content: Record<string, MediaObject> };
  responses: Record<string, ResponseObject>;
}
interface Document {
  paths: Record<string, Record<string, OperationObject>>;
  components: JsonObject;
}

const DOC = parse(readFileSync(contractPath, 'utf8')) as Document;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** JSON Pointer escaping of one path segment. */
const esc = (s: string): string => s.replaceAll('~', '~0').replaceAll('/', '~1');

/** Follows a local `$ref` ("#/components/...") to its target and the target's pointer. */
function deref<T extends { $ref?: string }>(node: T, pointer: string): { node: T; pointer: string } {
  let n = node;
  let p = pointer;
  for (let guard = 0; n.$ref && guard < 16; guard++) {
    p = n.$ref;
    n = p
      .slice(2)
      .split('/')
      .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], DOC) as T;
  }
  return { node: n, pointer: p };
}

// Validators come from test/support/spec.ts: the whole document is one schema resource there, so a schema
// anywhere in it is validated in place and its `#/components/...` references resolve as the contract means them.
function check(pointer: string, value: unknown, what: string): void {
  const validate = validatorAt(pointer);
  assert.ok(validate(value), `${what} does not match ${pointer}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`);
}

interface Call {
  method: string;
  path: string;
  op: OperationObject;
  opPointer: string;
  name: string;
  body?: Json;
  /** The body's media type: JSON, or a multipart form whose string examples of `format: binary` are files. */
  media?: 'application/json' | 'multipart/form-data';
}

/** One call per request example (or one call without a body), in the contract's order. */
function calls(): Call[] {
  const out: Call[] = [];
  for (const [path, item] of Object.entries(DOC.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const opPointer = `#/paths/${esc(path)}/${method}`;
      const media = op.requestBody?.content['application/json'] ? 'application/json' : 'multipart/form-data';
      const json = op.requestBody?.content[media];
      const examples: Array<[string, Json]> = [];
      if (json?.example !== undefined) examples.push(['example', json.example]);
      for (const [name, ex] of Object.entries(json?.examples ?? {})) {
        const value = ex.$ref ? deref(ex, '').node.value : ex.value;
        if (value !== undefined) examples.push([name, value]);
      }
      if (examples.length > 0) {
        for (const [name, body] of examples) out.push({ method, path, op, opPointer, name: `${op.operationId} (example ${name})`, body, media });
      } else {
        // An operation that needs a body and gives no example cannot be exercised: the contract is incomplete.
        out.push({ method, path, op, opPointer, name: op.operationId });
      }
    }
  }
  return out;
}

/**
 * The URL path with every path parameter filled from its example, or (`x-example-from`) from the answer to the
 * first example of the operation that makes what the parameter names (a stored response's id).
 */
async function urlPath(c: Call, baseUrl: string): Promise<string> {
  let out = c.path;
  for (const [, name] of c.path.matchAll(/\{([^}]+)\}/g)) {
    const param = (c.op.parameters ?? []).map((p, i) => deref(p, `${c.opPointer}/parameters/${i}`).node).find((p) => p.in === 'path' && p.name === name!);
    assert.ok(param?.example !== undefined, `${c.op.operationId}: path parameter ${name} needs an example`);
    const from = (param as { 'x-example-from'?: { operationId: string; field: string } })['x-example-from'];
    const value = from ? await madeBy(from.operationId, from.field, baseUrl) : param.example;
    out = out.replace(`{${name}}`, encodeURIComponent(String(value)));
  }
  return out;
}

/** A field of the JSON answer to the first example of an operation that takes a JSON body. */
async function madeBy(operationId: string, field: string, baseUrl: string): Promise<Json> {
  const maker = calls().find((x) => x.op.operationId === operationId && x.body !== undefined);
  assert.ok(maker, `x-example-from: no example of ${operationId}`);
  const res = await fetch(`${baseUrl}${maker.path}`, { method: maker.method.toUpperCase(), headers: { 'content-type': 'application/json' }, body: JSON.stringify(maker.body) });
  assert.equal(res.status, 200, `x-example-from: ${operationId} answered ${res.status}`);
  return ((await res.json()) as JsonObject)[field]!;
}

/**
 * A multipart example as the form a client sends: a property of `format: binary` is a file whose bytes are the
 * example's characters (one byte each, as the server reads a file); a list is the field repeated.
 */
function formOf(c: Call): FormData {
  interface Node {
    format?: string;
    items?: Node;
    anyOf?: Node[];
  }
  const schema = deref(c.op.requestBody!.content['multipart/form-data']!.schema as { $ref?: string }, '').node as { properties?: Record<string, Node> };
  // A file field: `format: binary` itself, in its list's items, or in one of its alternatives (one file or several).
  const binary = (n: Node | undefined): boolean => n !== undefined && (n.format === 'binary' || binary(n.items) || (n.anyOf ?? []).some(binary));
  const form = new FormData();
  for (const [name, value] of Object.entries(c.body as JsonObject)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (binary(schema.properties?.[name])) form.append(name, new Blob([Buffer.from(String(v), 'latin1')]), name);
      else form.append(name, typeof v === 'string' ? v : JSON.stringify(v));
    }
  }
  return form;
}

const mediaType = (contentType: string | null): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

describe('every operation of openapi.yaml, with every example, against the running server', { timeout: 120_000 }, () => {
  let server: RunningServer;
  const answered = new Map<string, number[]>();
  const all = calls();

  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  for (const c of all) {
    test(`${c.method.toUpperCase()} ${c.path}: ${c.name}`, async (t) => {
      assert.ok(!(c.op.requestBody?.required && c.body === undefined), `${c.op.operationId} takes a body: give it an example in openapi.yaml`);
      const declaresRequestId = (c.op.parameters ?? []).some((p) => deref(p, '').node.name.toLowerCase() === 'x-request-id');
      const requestId = `contract-${c.op.operationId}`;
      const headers: Record<string, string> = declaresRequestId ? { 'x-request-id': requestId } : {};
      // A required header (Anthropic's anthropic-version) goes with its example.
      for (const p of c.op.parameters ?? []) {
        const param = deref(p, '').node as { name: string; in?: string; required?: boolean; example?: Json };
        if (param.in === 'header' && param.required === true && param.example !== undefined) headers[param.name.toLowerCase()] = String(param.example);
      }
      const multipart = c.media === 'multipart/form-data';
      if (c.body !== undefined && !multipart) headers['content-type'] = 'application/json';
      const res = await fetch(`${server.url}${await urlPath(c, server.url)}`, {
        method: c.method.toUpperCase(),
        headers,
        ...(c.body !== undefined ? { body: multipart ? formOf(c) : JSON.stringify(c.body) } : {}),
      });
      answered.set(c.op.operationId, [...(answered.get(c.op.operationId) ?? []), res.status]);
      // The configure examples change the latencies: put them back so later calls stay fast.
      if (c.path === '/configure' && res.ok) t.after(() => fetch(`${server.url}/configure`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ttft":0,"itl":0}' }).then(() => undefined));

      // Status: an example is a valid request, so the answer is a success the contract declares.
      const text = res.status >= 200 && res.status < 300 ? undefined : await res.text();
      assert.ok(res.status >= 200 && res.status < 300, `${res.status}: ${text}`);
      const statusKey = c.op.responses[String(res.status)] ? String(res.status) : 'default';
      const declared = c.op.responses[statusKey];
      assert.ok(declared, `status ${res.status} is not declared`);
      const { node: response, pointer } = deref(declared, `${c.opPointer}/responses/${esc(statusKey)}`);

      // Headers: each one declared is sent and matches its schema (X-Request-ID echoes the request's).
      for (const [name, h] of Object.entries(response.headers ?? {})) {
        const value = res.headers.get(name);
        assert.ok(value !== null, `header ${name} is declared but missing`);
        const { pointer: hp } = deref(h, `${pointer}/headers/${esc(name)}`);
        check(`${hp}/schema`, value, `header ${name}`);
        if (name.toLowerCase() === 'x-request-id' && declaresRequestId) assert.equal(value, requestId);
      }

      // Content type: one the contract declares for this status.
      const type = mediaType(res.headers.get('content-type'));
      assert.ok(response.content?.[type], `content type ${type} is not declared for ${statusKey} (declared: ${Object.keys(response.content ?? {}).join(', ')})`);
      const schema = `${pointer}/content/${esc(type)}/schema`;

      if (type === 'text/event-stream') {
        const events = await readSse(res);
        // A stream ends with data: [DONE], unless its media type says it ends with the connection.
        const sentinel = (response.content[type] as { 'x-done-sentinel'?: boolean })['x-done-sentinel'] !== false;
        assert.ok(events.length >= (sentinel ? 2 : 1), sentinel ? 'at least one chunk, then [DONE]' : 'at least one chunk');
        if (sentinel) assert.equal(events.at(-1)!.data, '[DONE]', 'the stream ends with data: [DONE]');
        else assert.ok(events.every((e) => e.data !== '[DONE]'), 'no data: [DONE] in a stream that ends with the connection');
        for (const [i, e] of events.slice(0, sentinel ? -1 : undefined).entries()) check(schema, JSON.parse(e.data), `chunk ${i}`);
      } else if (type === 'application/json' || type.endsWith('+json')) {
        check(schema, await res.json(), 'the body');
      } else {
        check(schema, await res.text(), 'the body');
      }
    });
  }

  test('every operation in the contract has a handler: each answered, and none with 501', () => {
    const ids = all.map((c) => c.op.operationId);
    const implemented = [...answered].filter(([, statuses]) => statuses.every((s) => s !== 501)).map(([id]) => id);
    assert.deepEqual([...new Set(implemented)].sort(), [...new Set(ids)].sort());
  });
});

describe('the examples in openapi.yaml match their own schemas', () => {
  test('the validators are not vacuous: a wrong body fails', () => {
    const chat = '#/paths/~1v1~1chat~1completions/post/responses/200/content/application~1json/schema';
    assert.equal(validatorAt(chat)({ id: 'chatcmpl-1' }), false);
    assert.equal(validatorAt('#/components/responses/BadRequest/content/application~1json/schema')({ error: { message: 1 } }), false);
  });

  test('every operation shows an example of each success answer, in every content type it answers with', () => {
    const missing: string[] = [];
    for (const c of calls().filter((x, i, a) => a.findIndex((y) => y.opPointer === x.opPointer) === i)) {
      for (const [status, r] of Object.entries(c.op.responses)) {
        if (!/^2\d\d$/.test(status)) continue;
        for (const [type, m] of Object.entries(deref(r, '').node.content ?? {})) {
          if (m.example === undefined && Object.keys(m.examples ?? {}).length === 0) missing.push(`${c.op.operationId} ${status} ${type}`);
        }
      }
    }
    assert.deepEqual(missing, [], 'answers without an example in openapi.yaml');
  });

  test("the settings in the examples of GET /health, GET / and POST /configure are the server's defaults", () => {
    const health = DOC.paths['/health']?.['get']?.responses['200']?.content?.['application/json']?.example as JsonObject;
    const root = DOC.paths['/']?.['get']?.responses['200']?.content?.['application/json']?.example as JsonObject;
    assert.deepEqual(health['settings'], defaultSettings());
    assert.deepEqual(root['settings'], defaultSettings());
    const configure = DOC.paths['/configure']?.['post'];
    const patch = configure?.requestBody?.content['application/json']?.examples?.['latencies']?.value as JsonObject;
    const answer = configure?.responses['200']?.content?.['application/json']?.example as JsonObject;
    assert.deepEqual(answer['settings'], { ...defaultSettings(), ...patch }, 'the configure example answers its latencies example');
  });

  test('request bodies, parameters and responses', () => {
    let checked = 0;
    const media = (m: MediaObject, pointer: string, what: string): void => {
      if (m.schema === undefined) return;
      if (m.example !== undefined) {
        check(`${pointer}/schema`, m.example, `${what} example`);
        checked++;
      }
      for (const [name, ex] of Object.entries(m.examples ?? {})) {
        check(`${pointer}/schema`, ex.$ref ? deref(ex, '').node.value : ex.value, `${what} example ${name}`);
        checked++;
      }
    };
    const responses = (rs: Record<string, ResponseObject>, base: string, what: string): void => {
      for (const [status, r] of Object.entries(rs)) {
        const { node, pointer } = deref(r, `${base}/${esc(status)}`);
        for (const [type, m] of Object.entries(node.content ?? {})) media(m, `${pointer}/content/${esc(type)}`, `${what} ${status} ${type}`);
      }
    };
    for (const c of calls().filter((x, i, a) => a.findIndex((y) => y.opPointer === x.opPointer) === i)) {
      for (const [type, m] of Object.entries(c.op.requestBody?.content ?? {})) media(m, `${c.opPointer}/requestBody/content/${esc(type)}`, `${c.op.operationId} request`);
      for (const [i, p] of (c.op.parameters ?? []).entries()) {
        const { node, pointer } = deref(p, `${c.opPointer}/parameters/${i}`);
        if (node.example !== undefined && node.schema !== undefined) {
          check(`${pointer}/schema`, node.example, `${c.op.operationId} parameter ${node.name}`);
          checked++;
        }
      }
      responses(c.op.responses, `${c.opPointer}/responses`, c.op.operationId);
    }
    responses((DOC.components['responses'] ?? {}) as unknown as Record<string, ResponseObject>, '#/components/responses', 'components.responses');
    assert.ok(checked >= 10, `only ${checked} examples found`);
  });
});

describe('the prepared contract the build stores beside the code', () => {
  test('is what openapi.yaml parses to, and is read only when made from the same text', async () => {
    const { loadContract, preparedContractPath, writePreparedContract } = await import('../src/contract.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const text = readFileSync(contractPath, 'utf8');
    // The build's own file: made from today's openapi.yaml (npm run build ran before the suite).
    assert.deepEqual(JSON.parse(readFileSync(preparedContractPath, 'utf8')).document, parse(text));
    const dir = mkdtempSync(join(tmpdir(), 'prepared-contract-'));
    try {
      const prepared = join(dir, 'contract.json');
      writePreparedContract('openapi: 3.1.0\ninfo: { title: a, version: "1" }\n', prepared);
      assert.equal(loadContract('openapi: 3.1.0\ninfo: { title: a, version: "1" }\n', prepared).info.title, 'a');
      // Other text (an edited openapi.yaml without a rebuild): the file is not taken, the text is parsed.
      assert.equal(loadContract('openapi: 3.1.0\ninfo: { title: b, version: "1" }\n', prepared).info.title, 'b');
      assert.equal(loadContract('openapi: 3.1.0\ninfo: { title: c, version: "1" }\n', join(dir, 'missing.json')).info.title, 'c');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('its settings validator, stored as code, is used and gives the compiled validator’s verdicts and errors', async () => {
    const { compiledValidator, componentValidator, preparedContractPath, preparedValidatorsPath } = await import('../src/contract.js');
    const { defaultSettings, SETTINGS } = await import('../src/settings.js');
    const { createHash } = await import('node:crypto');
    const { createRequire } = await import('node:module');
    const stored = createRequire(import.meta.url)(preparedValidatorsPath(preparedContractPath)) as { sha256: string };
    assert.equal(stored.sha256, createHash('sha256').update(readFileSync(contractPath, 'utf8')).digest('hex'), 'made from today’s openapi.yaml');
    const prepared = componentValidator('Settings');
    const compiled = compiledValidator('Settings');
    assert.notEqual(prepared, compiled, 'the stored validator, not one compiled at start');
    const defaults = defaultSettings() as unknown as Record<string, unknown>;
    const candidates: unknown[] = [defaults, { ...defaults, surprise: 1 }, Object.fromEntries(Object.entries(defaults).slice(1)), null, 'settings'];
    for (const s of SETTINGS) {
      for (const v of ['x', '', -1, 0, 1.5, 1e12, null, true, [], ['Qwen/Qwen3-0.6B'], [1], {}]) candidates.push({ ...defaults, [s.name]: v });
    }
    let refused = 0;
    for (const c of candidates) {
      const verdict = prepared(c);
      assert.equal(verdict, compiled(c), JSON.stringify(c));
      assert.deepEqual(prepared.errors ?? null, compiled.errors ?? null, JSON.stringify(c));
      if (!verdict) refused++;
    }
    assert.ok(refused > SETTINGS.length * 5, `only ${refused} candidates refused`);
  });
});

describe('the request validators the build stores for the completions', () => {
  test('are made from today’s contract, and give the verdicts, errors and coercions of the ones openapi-backend compiles', async () => {
    const { OpenAPIBackend } = await import('openapi-backend');
    const { preparedRequestValidators, routerOptions, STORED_OPERATIONS } = await import('../src/requestValidators.js');
    const stored = preparedRequestValidators();
    assert.deepEqual([...stored.keys()], [...STORED_OPERATIONS], 'made by the build from today’s openapi.yaml');
    const api = new OpenAPIBackend(routerOptions());
    await api.init();
    const messages = [{ role: 'user', content: 'Hi' }];
    const bodies: Record<(typeof STORED_OPERATIONS)[number], unknown[]> = {
      createChatCompletion: [
        { model: 'm', messages },
        { model: 'm', messages, stream: true, stream_options: { include_usage: true }, max_tokens: 8, temperature: 0.5, n: 2, seed: 1 },
        { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'image_url', image_url: { url: 'data:,' } }] }] },
        { model: 'm', messages: [{ role: 'tool', content: 'x', tool_call_id: 'c' }, { role: 'assistant', content: null, tool_calls: [] }] },
        {},
        { model: 1, messages },
        { model: 'm' },
        { model: 'm', messages: 'Hi' },
        { model: 'm', messages: [{ role: 'nobody', content: 'Hi' }] },
        { model: 'm', messages, max_tokens: -1 },
        { model: 'm', messages, stream: 'yes' },
        { model: 'm', messages, temperature: 9 },
        { model: 'm', messages, surprise: true },
        null,
        [],
      ],
      createCompletion: [
        { model: 'm', prompt: 'Hi' },
        { model: 'm', prompt: ['a', 'b'], max_tokens: 4, echo: true, stream: true },
        { model: 'm', prompt: [1, 2, 3] },
        { model: 'm', prompt: [[1, 2], [3]] },
        {},
        { model: 'm' },
        { model: 'm', prompt: 5 },
        { model: 'm', prompt: 'Hi', max_tokens: 'many' },
        { model: 'm', prompt: 'Hi', n: 0 },
        { model: 'm', prompt: 'Hi', surprise: true },
      ],
    };
    const headers = [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', authorization: 'Bearer k', 'x-request-id': 'r' }, {}];
    let refused = 0;
    for (const operationId of STORED_OPERATIONS) {
      const ours = stored.get(operationId)!;
      const theirs = api.validator.getRequestValidatorsForOperation(operationId)!;
      assert.equal(ours.length, theirs.length);
      for (const body of bodies[operationId]) {
        for (const header of headers) {
          const input = { path: {}, query: {}, header, cookie: {}, requestBody: body };
          for (let i = 0; i < ours.length; i++) {
            const a = structuredClone(input);
            const b = structuredClone(input);
            const verdict = ours[i]!(a);
            const what = `${operationId} validator ${i}: ${JSON.stringify(input)}`;
            assert.equal(verdict, theirs[i]!(b), what);
            assert.deepEqual(ours[i]!.errors ?? null, theirs[i]!.errors ?? null, what);
            assert.deepEqual(a, b, `${what}: the same coercions`);
            if (!verdict) refused++;
          }
        }
      }
    }
    assert.ok(refused >= 30, `only ${refused} refusals`);
  });
});
