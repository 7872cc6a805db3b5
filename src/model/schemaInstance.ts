// A JSON value valid against a JSON Schema, the same for the same seed text: the arguments of a tool call and
// the content of a structured output. json-schema-faker does the work (types, enums, formats, patterns,
// required and optional properties, local $refs); it is seeded from the text so that a prompt always gets
// the same answer.
import { generateSync } from 'json-schema-faker';

/** A JSON Schema as a request carries it: an object (the contract checks no more than that). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** The schema cannot be instanced (contradictory, or using what the generator does not support). */
export class SchemaInstanceError extends Error {}

/** A JSON value valid against `schema`, as compact JSON text, drawn with a seed made from `seedText`. */
export function schemaInstance(schema: JsonSchema, seedText: string): string {
  let value: unknown;
  try {
    value = generateSync(schema as Parameters<typeof generateSync>[0], { seed: seedOf(seedText) });
  } catch (err) {
    throw new SchemaInstanceError(err instanceof Error ? err.message : String(err));
  }
  const text = JSON.stringify(value);
  if (text === undefined) throw new SchemaInstanceError('the schema admits no JSON value');
  return text;
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
