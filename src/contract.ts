// Loads openapi.yaml once: the router, the settings table and the docs all read this one document.
// Parsing the YAML costs 0.3-1 s, most of a start without a tokenizer; the build stores the parsed document
// as JSON (13 ms to parse), named by the YAML's hash, and the YAML is parsed only when that file is missing
// or was made from other text.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** A JSON Schema node as it stands in openapi.yaml. */
export interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  default?: unknown;
  description?: string;
  allOf?: SchemaNode[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  /** A setting that is a latency: `--fast` sets it to zero. */
  'x-latency'?: boolean;
}

export interface Contract {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, { operationId: string; summary?: string }>>;
  components: { schemas: Record<string, SchemaNode> };
}

// The compiled module lives in dist/src/, two levels below the package root that holds openapi.yaml.
export const contractPath = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

/** The parsed contract as the build stores it, beside the compiled code. */
export const preparedContractPath = fileURLToPath(new URL('../generated/contract.json', import.meta.url));

interface PreparedContract {
  /** SHA-256 of the openapi.yaml text it was parsed from. */
  sha256: string;
  document: Contract;
}

let loaded: Contract | undefined;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function parseYaml(text: string): Contract {
  // Loaded only on this path: a start with the prepared file never pays for the YAML parser's import either.
  const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return parse(text) as Contract;
}

/** The contract in `text`: from the prepared file when that was made from this very text, else parsed. */
export function loadContract(text: string, preparedPath: string): Contract {
  try {
    const prepared = JSON.parse(readFileSync(preparedPath, 'utf8')) as PreparedContract;
    if (prepared.sha256 === sha256(text)) return prepared.document;
  } catch {
    // none, or unreadable: parse the YAML
  }
  return parseYaml(text);
}

export function contract(): Contract {
  loaded ??= loadContract(readFileSync(contractPath, 'utf8'), preparedContractPath);
  return loaded;
}

/** Writes the prepared form of a contract's text (the build's last step, for openapi.yaml). */
export function writePreparedContract(text = readFileSync(contractPath, 'utf8'), preparedPath = preparedContractPath): void {
  const prepared: PreparedContract = { sha256: sha256(text), document: parseYaml(text) };
  mkdirSync(dirname(preparedPath), { recursive: true });
  writeFileSync(preparedPath, JSON.stringify(prepared));
}

/** Follows `$ref` and single-element `allOf` wrappers to the schema that carries the constraints. */
export function resolveSchema(node: SchemaNode): SchemaNode {
  const doc = contract();
  let merged: SchemaNode = { ...node };
  for (let guard = 0; guard < 16; guard++) {
    const target = merged.$ref ?? (merged.allOf?.length === 1 ? merged.allOf[0]?.$ref : undefined);
    if (!target) break;
    const name = target.replace('#/components/schemas/', '');
    const base = doc.components.schemas[name];
    if (!base) throw new Error(`openapi.yaml: unknown schema ${target}`);
    const { $ref: _r, allOf: _a, ...own } = merged;
    merged = { ...base, ...own };
  }
  return merged;
}

// Schemas are linted (npm run lint:spec), not checked against the meta-schema at each start.
const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: false });
let registered = false;

/** A validator for one component schema, with every other component reachable by $ref. */
export function componentValidator(name: string): ValidateFunction {
  if (!registered) {
    ajv.addSchema({ components: contract().components }, 'openapi');
    registered = true;
  }
  return ajv.getSchema(`openapi#/components/schemas/${name}`) ?? ajv.compile({ $ref: `openapi#/components/schemas/${name}` });
}

/** "must be >= 0" style text for one Ajv error, without Ajv's schema paths. */
export function describeAjvError(e: ErrorObject): string {
  if (e.keyword === 'enum') return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  if (e.keyword === 'additionalProperties') return `unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  return e.message ?? 'is invalid';
}
