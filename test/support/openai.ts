// What the tests of OpenAI's APIs share: OpenAI's own OpenAPI description (the outside oracle, read from
// ../shared/conformance/) with a validator of its component schemas, and the check that a refusal is in
// OpenAI's error shape.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { ROOT } from './server.js';
import type { ErrorBody } from '../../src/types.js';

export const OPENAI_SPEC = join(ROOT, '..', 'shared', 'conformance', 'openai-openapi.yaml');
/** A skip reason when the description is not beside the clone, else false. */
export const MISSING = existsSync(OPENAI_SPEC) ? false : `OpenAI's OpenAPI description is not at ${OPENAI_SPEC}`;

/** The answer's status is `status` and its body OpenAI's error object; returns that object. */
export async function refused(res: Response, status: number): Promise<ErrorBody['error']> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as ErrorBody;
  assert.deepEqual(Object.keys(body.error), ['message', 'type', 'param', 'code']);
  return body.error;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * OpenAPI 3.0's `nullable: true` (left in OpenAI's 3.1 document, sometimes without a `type`) as JSON Schema
 * 2020-12: the schema becomes `anyOf: [the schema without nullable, {type: null}]`.
 */
function denullable(node: Json): Json {
  if (Array.isArray(node)) return node.map(denullable);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) if (k !== 'nullable') out[k] = denullable(v);
  if (node['nullable'] !== true) return out;
  const { description, ...rest } = out;
  const wrapped: JsonObject = { anyOf: [rest, { type: 'null' }] };
  if (description !== undefined) wrapped['description'] = description;
  return wrapped;
}

function formatsIn(node: Json, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const v of node) formatsIn(v, into);
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'format' && typeof v === 'string') into.add(v);
      else formatsIn(v, into);
    }
  }
  return into;
}

/** The one place where OpenAI's description is narrower than OpenAI's API (see the completions stream test). */
export const COMPLETION_CHUNK = 'CreateCompletionResponse_StreamChunk';

export interface Oracle {
  validate(component: string, value: unknown): void;
  rejects(component: string, value: unknown): boolean;
}

export function loadOracle(): Oracle {
  const doc = parse(readFileSync(OPENAI_SPEC, 'utf8')) as Json;
  assert.ok(isObject(doc) && isObject(doc['components']) && isObject(doc['components']['schemas']), 'no components.schemas');
  const schemas = denullable(doc['components']['schemas']) as JsonObject;

  // Legacy completion streams: OpenAI (like vLLM) sends `finish_reason: null` on every chunk but a choice's last,
  // while its description declares the field a non-nullable string. Chunks that do finish are held to the
  // unmodified CreateCompletionResponse; only the others get this copy, with a null finish_reason allowed.
  const chunk = structuredClone(schemas['CreateCompletionResponse']!) as JsonObject;
  const items = ((chunk['properties'] as JsonObject)['choices'] as JsonObject)['items'] as JsonObject;
  const choiceProps = items['properties'] as JsonObject;
  choiceProps['finish_reason'] = { anyOf: [choiceProps['finish_reason']!, { type: 'null' }] };
  schemas[COMPLETION_CHUNK] = chunk;

  const ajv = new Ajv2020({ strict: false, allErrors: false, validateSchema: false });
  // `unixtime` is OpenAI's own format: an integer count of seconds. Other formats (uri, date, ...) are not
  // checked: Ajv knows none without ajv-formats and our bodies carry none of them.
  for (const f of formatsIn(schemas)) {
    if (f === 'unixtime') ajv.addFormat(f, { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
    else ajv.addFormat(f, true);
  }
  ajv.addSchema({ components: { schemas } }, 'openai');
  const cache = new Map<string, ValidateFunction>();
  const get = (component: string): ValidateFunction => {
    let v = cache.get(component);
    if (!v) {
      assert.ok(schemas[component], `OpenAI's description has no component ${component}`);
      v = ajv.compile({ $ref: `openai#/components/schemas/${component}` });
      cache.set(component, v);
    }
    return v;
  };
  return {
    validate(component, value) {
      const v = get(component);
      if (!v(value)) {
        assert.fail(`OpenAI's ${component} rejects our body: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value, null, 1)}`);
      }
    },
    rejects(component, value) {
      return !get(component)(value);
    },
  };
}
