// Loads openapi.yaml once: the router, the settings table and the docs all read this one document.
// Parsing the YAML costs 0.3-1 s, most of a start without a tokenizer; the build stores the parsed document
// as JSON (13 ms to parse), named by the YAML's hash, and the YAML is parsed only when that file is missing
// or was made from other text. Beside it the build stores, as code, the validators a start needs before it
// listens (Ajv's standalone output): compiling the settings' validator took ~50 ms of every start.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';

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

/** The component schemas whose validators the build stores as code: those a start needs before listening. */
const PREPARED_VALIDATORS = ['Settings'];

/** The stored validators' module: one function per name of PREPARED_VALIDATORS, and the contract's hash. */
type PreparedValidators = { sha256?: unknown } & Record<string, unknown>;

/** Where the build stores the validators' code, beside a prepared contract. */
export const preparedValidatorsPath = (preparedPath: string): string => join(dirname(preparedPath), 'validators.cjs');

let loaded: Contract | undefined;
/** The hash of openapi.yaml when the contract came from the build's prepared file, else undefined. */
let preparedSha256: string | undefined;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

// Ajv is loaded when a validator must be compiled: a start with the stored validators loads it only with the
// app (openapi-backend needs it), after the tokenizer's files have begun to load.
const newAjv = (options: ConstructorParameters<typeof Ajv>[0]): Ajv => new (createRequire(import.meta.url)('ajv') as { Ajv: typeof Ajv }).Ajv(options);

function parseYaml(text: string): Contract {
  // Loaded only on this path: a start with the prepared file never pays for the YAML parser's import either.
  const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return parse(text) as Contract;
}

/** The prepared file, when it was made from this very text. */
function readPrepared(text: string, preparedPath: string): PreparedContract | undefined {
  try {
    const prepared = JSON.parse(readFileSync(preparedPath, 'utf8')) as PreparedContract;
    if (prepared.sha256 === sha256(text)) return prepared;
  } catch {
    // none, or unreadable: parse the YAML
  }
  return undefined;
}

/** The contract in `text`: from the prepared file when that was made from this very text, else parsed. */
export function loadContract(text: string, preparedPath: string): Contract {
  return readPrepared(text, preparedPath)?.document ?? parseYaml(text);
}

export function contract(): Contract {
  if (!loaded) {
    const text = readFileSync(contractPath, 'utf8');
    const prepared = readPrepared(text, preparedContractPath);
    preparedSha256 = prepared?.sha256;
    loaded = prepared?.document ?? parseYaml(text);
  }
  return loaded;
}

// Schemas are linted (npm run lint:spec), not checked against the meta-schema at each start. The stored
// validators are made with the same options.
const AJV_OPTIONS = { strict: false, allErrors: false, validateSchema: false } as const;
const OPENAPI_ID = 'openapi';
const componentRef = (name: string): string => `${OPENAPI_ID}#/components/schemas/${name}`;

/** Writes the prepared form of a contract's text (the build's last step, for openapi.yaml), and its validators. */
export function writePreparedContract(text = readFileSync(contractPath, 'utf8'), preparedPath = preparedContractPath): void {
  const prepared: PreparedContract = { sha256: sha256(text), document: parseYaml(text) };
  mkdirSync(dirname(preparedPath), { recursive: true });
  writeFileSync(preparedPath, JSON.stringify(prepared));
  const schemas = prepared.document.components?.schemas ?? {};
  const names = PREPARED_VALIDATORS.filter((n) => schemas[n] !== undefined);
  const generator = newAjv({ ...AJV_OPTIONS, code: { source: true } });
  generator.addSchema({ components: prepared.document.components }, OPENAPI_ID);
  const standalone = createRequire(import.meta.url)('ajv/dist/standalone') as { default: (ajv: Ajv, refs: Record<string, string>) => string };
  const code = standalone.default(generator, Object.fromEntries(names.map((n) => [n, componentRef(n)])));
  writeFileSync(preparedValidatorsPath(preparedPath), `${code}\nexports.sha256 = ${JSON.stringify(prepared.sha256)};\n`);
}

/** The hash of openapi.yaml when the contract in use came from the build's prepared file (else undefined). */
export function preparedContractSha256(): string | undefined {
  contract();
  return preparedSha256;
}

let storedValidators: PreparedValidators | undefined;

/** The build's stored validator of a component, when the contract in use is the one it was made from. */
function preparedValidator(name: string): ValidateFunction | undefined {
  if (preparedSha256 === undefined || !PREPARED_VALIDATORS.includes(name)) return undefined;
  try {
    storedValidators ??= createRequire(import.meta.url)(preparedValidatorsPath(preparedContractPath)) as PreparedValidators;
  } catch {
    return undefined;
  }
  const validate = storedValidators[name];
  return storedValidators.sha256 === preparedSha256 && typeof validate === 'function' ? (validate as ValidateFunction) : undefined;
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

let ajv: Ajv | undefined;

/** A validator for one component schema, with every other component reachable by $ref. */
export function componentValidator(name: string): ValidateFunction {
  contract();
  const prepared = preparedValidator(name);
  if (prepared) return prepared;
  return compiledValidator(name);
}

/** The validator Ajv compiles now from the contract in use (what the stored ones are made to equal). */
export function compiledValidator(name: string): ValidateFunction {
  if (!ajv) {
    ajv = newAjv(AJV_OPTIONS);
    ajv.addSchema({ components: contract().components }, OPENAPI_ID);
  }
  return ajv.getSchema(componentRef(name)) ?? ajv.compile({ $ref: componentRef(name) });
}

/** "must be >= 0" style text for one Ajv error, without Ajv's schema paths. */
export function describeAjvError(e: ErrorObject): string {
  if (e.keyword === 'enum') return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  if (e.keyword === 'additionalProperties') return `unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  return e.message ?? 'is invalid';
}
