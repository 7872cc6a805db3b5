// Loads openapi.yaml once: the router, the settings table and the docs all read this one document.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
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

let loaded: Contract | undefined;

export function contract(): Contract {
  loaded ??= parse(readFileSync(contractPath, 'utf8')) as Contract;
  return loaded;
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

const ajv = new Ajv({ strict: false, allErrors: false });
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
