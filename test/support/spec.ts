// Checks an answer against what openapi.yaml declares for its operation and status: the status is declared
// (or covered by `default`), the content type is one of that response's, and the body (each SSE chunk, for
// a stream) matches its schema. The whole document is one Ajv schema resource, so `#/components/...`
// references resolve as the contract means them (as in contract.test.ts).
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { contractPath } from '../../src/contract.js';

interface ResponseObject {
  $ref?: string;
  content?: Record<string, unknown>;
}
interface Document {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
}

const DOC = parse(readFileSync(contractPath, 'utf8')) as Document;
const ID = 'urn:aiperf-mock-server:openapi';
export const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema({ ...(DOC as unknown as Record<string, unknown>), $id: ID });

const esc = (s: string): string => s.replaceAll('~', '~0').replaceAll('/', '~1');

function resolve(pointer: string): { node: ResponseObject; pointer: string } {
  let p = pointer;
  let node = at(p) as ResponseObject;
  for (let guard = 0; node.$ref && guard < 16; guard++) {
    p = node.$ref;
    node = at(p) as ResponseObject;
  }
  return { node, pointer: p };
}

function at(pointer: string): unknown {
  return pointer
    .slice(2)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], DOC);
}

const validators = new Map<string, ValidateFunction>();
/** The compiled validator of the schema at a JSON pointer into openapi.yaml (compiled once). */
export function validatorAt(pointer: string): ValidateFunction {
  let v = validators.get(pointer);
  if (!v) {
    v = ajv.compile({ $ref: `${ID}${pointer}` });
    validators.set(pointer, v);
  }
  return v;
}

export interface Declared {
  /** The media type of the answer without parameters ("application/json", "text/event-stream"). */
  type: string;
  /** Validates one JSON value (a body, or one SSE chunk): undefined when it matches, else what is wrong. */
  check(value: unknown): string | undefined;
}

/**
 * What the contract declares for `status` and `contentType` on `method path`; throws with the reason when
 * the status or the content type is not declared there.
 */
export function declaredResponse(method: string, path: string, status: number, contentType: string | null): Declared {
  const op = DOC.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path} is not in the contract`);
  const key = op.responses[String(status)] ? String(status) : 'default';
  if (!op.responses[key]) throw new Error(`status ${status} is not declared for ${method} ${path}`);
  const { node, pointer } = resolve(`#/paths/${esc(path)}/${method.toLowerCase()}/responses/${esc(key)}`);
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!node.content?.[type]) throw new Error(`content type '${type}' is not declared for ${status} on ${method} ${path}`);
  const validate = validatorAt(`${pointer}/content/${esc(type)}/schema`);
  return {
    type,
    check(value) {
      return validate(value) ? undefined : ajv.errorsText(validate.errors);
    },
  };
}
