// A JSON value valid against a JSON Schema, the same for the same seed text: the arguments of a tool call and
// the content of a structured output. json-schema-faker does the work (types, enums, formats, patterns,
// required and optional properties, local $refs); it is seeded from the text so that a prompt always gets
// the same answer. Ajv checks what it made: a schema that no value satisfies, or one Ajv cannot read, is refused
// rather than answered with JSON that does not validate.
import { createRequire } from 'node:module';
import { generateSync } from 'json-schema-faker';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { Lru } from './lru.js';

/** A JSON Schema as a request carries it: an object (the contract checks no more than that). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** The schema cannot be instanced (contradictory, or using what the generator does not support). */
export class SchemaInstanceError extends Error {}

/** Draws with other seeds before refusing: the generator may miss a narrow schema on one draw and hit on the next. */
const DRAWS = 4;

/** A JSON value valid against `schema`, as compact JSON text, drawn with a seed made from `seedText`. */
export function schemaInstance(schema: JsonSchema, seedText: string): string {
  const validate = validatorOf(schema);
  const seed = seedOf(seedText);
  let why = '';
  for (let draw = 0; draw < DRAWS; draw++) {
    let value: unknown;
    try {
      value = generateSync(schema as Parameters<typeof generateSync>[0], { seed: seed + draw });
    } catch (err) {
      throw new SchemaInstanceError(err instanceof Error ? err.message : String(err));
    }
    const text = JSON.stringify(value);
    if (text === undefined) throw new SchemaInstanceError('the schema admits no JSON value');
    if (validate(value)) return text;
    why = validate.errors?.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ') ?? '';
  }
  throw new SchemaInstanceError(`no value satisfies it (${why})`);
}

// Compiled validators by schema text: a benchmark sends the same schemas again and again.
const validators = new Lru<string, ValidateFunction>(256);
let ajv: Ajv2020 | undefined;

function validatorOf(schema: JsonSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (v) return v;
  if (!ajv) {
    // Loaded on the first schema: most runs never see one. Formats are not checked (the generator makes them)
    // and unknown keywords are allowed, as OpenAI's own strict schemas carry some.
    const { Ajv2020: Ctor } = createRequire(import.meta.url)('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020 };
    ajv = new Ctor({ strict: false, validateFormats: false, validateSchema: false, logger: false, allErrors: false });
  }
  // A draft named by $schema is read as 2020-12 (what schemas of requests use reads the same in both); an $id
  // would make Ajv refuse the next schema with the same id.
  const { $schema: _draft, $id: _id, ...rest } = schema;
  try {
    v = ajv.compile(rest);
  } catch (err) {
    throw new SchemaInstanceError(err instanceof Error ? err.message : String(err));
  }
  validators.set(key, v);
  return v;
}

/** FNV-1a over the text's UTF-16 units, as a positive 31-bit integer (the generator's seed). */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 1) || 1;
}
