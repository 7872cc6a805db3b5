// multipart/form-data bodies (OpenAI's uploads: audio to transcribe, images to edit, video jobs). Node's own
// undici parses the bytes (Response.formData()); the fields then become the plain object that the contract's
// schema for the operation validates, as a JSON body would be:
// - a file is its bytes as a binary string (one character per byte: `type: string, format: binary`), which
//   Buffer.from(value, 'latin1') turns back into the same bytes;
// - a field sent more than once, or named `name[]` (openai-node's way of sending a list), is a list;
// - a text field whose schema says integer, number or boolean is turned into one when it reads as one (a form
//   has only text), so that `n=2` and `stream=true` are checked as the JSON body's `2` and `true` would be.
import { badRequest } from './errors.js';

/** The parts of a form in order, by field name (without a trailing `[]`); files as binary strings. */
export type FormFields = ReadonlyMap<string, { values: string[]; list: boolean }>;

/** Whether a Content-Type names a multipart form. */
export const isMultipart = (type: string): boolean => /^multipart\/form-data\b/i.test(type);

/** Parses a whole multipart body (already read within max_body_bytes); a malformed one is a 400. */
export async function parseForm(bytes: Buffer, contentType: string): Promise<FormFields> {
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { 'content-type': contentType } }).formData();
  } catch (err) {
    throw badRequest(`The request body is not a valid multipart/form-data body: ${(err as Error).message}`, null, 'invalid_multipart');
  }
  const fields = new Map<string, { values: string[]; list: boolean }>();
  for (const [rawName, value] of form) {
    const list = rawName.endsWith('[]');
    const name = list ? rawName.slice(0, -2) : rawName;
    const text = typeof value === 'string' ? value : Buffer.from(await value.arrayBuffer()).toString('latin1');
    const field = fields.get(name);
    if (field) {
      field.values.push(text);
      field.list = true;
    } else {
      fields.set(name, { values: [text], list });
    }
  }
  return fields;
}

/** A JSON Schema node of the contract, as far as turning form text into values needs it. */
export interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
}

/** The plain object a form stands for under `schema` (the operation's multipart/form-data request schema). */
export function formObject(fields: FormFields, schema: SchemaNode, resolve: (ref: string) => SchemaNode): Record<string, unknown> {
  const root = follow(schema, resolve);
  const out: Record<string, unknown> = {};
  for (const [name, { values, list }] of fields) {
    const property = root.properties?.[name];
    const kinds = property ? typesOf(property, resolve) : new Set<string>();
    const items = property ? itemTypesOf(property, resolve) : new Set<string>();
    out[name] = list ? values.map((v) => scalar(v, items)) : scalar(values[0]!, kinds);
  }
  return out;
}

function follow(node: SchemaNode, resolve: (ref: string) => SchemaNode): SchemaNode {
  let n = node;
  for (let guard = 0; n.$ref !== undefined && guard < 16; guard++) n = resolve(n.$ref);
  return n;
}

/** The JSON types a value may take under a schema, through its references and alternatives. */
function typesOf(node: SchemaNode, resolve: (ref: string) => SchemaNode): Set<string> {
  const n = follow(node, resolve);
  const out = new Set<string>(n.type === undefined ? [] : Array.isArray(n.type) ? n.type : [n.type]);
  for (const alt of [...(n.anyOf ?? []), ...(n.oneOf ?? [])]) for (const t of typesOf(alt, resolve)) out.add(t);
  return out;
}

/** The JSON types of a list's items under a schema that allows a list. */
function itemTypesOf(node: SchemaNode, resolve: (ref: string) => SchemaNode): Set<string> {
  const n = follow(node, resolve);
  const out = new Set<string>(n.items ? typesOf(n.items, resolve) : []);
  for (const alt of [...(n.anyOf ?? []), ...(n.oneOf ?? [])]) for (const t of itemTypesOf(alt, resolve)) out.add(t);
  return out;
}

/** A form's text as the value the schema expects, where it reads as one; otherwise the text, for the schema to refuse. */
function scalar(text: string, kinds: ReadonlySet<string>): unknown {
  if (kinds.has('string')) return text;
  if ((kinds.has('integer') || kinds.has('number')) && /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/.test(text.trim())) return Number(text);
  if (kinds.has('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  if (kinds.has('null') && (text === 'null' || text === '')) return null;
  return text;
}
