// What a chat answer says when response_format asks for JSON. The mock's answer is its echo; asked for JSON,
// it stays as close to that as JSON allows: `json_object` wraps the echo as {"text": ...}, and `json_schema`
// answers an instance of the schema seeded by the last user message (the same prompt, the same JSON).
import { badRequest } from '../http/errors.js';
import { SchemaInstanceError, schemaInstance } from './schemaInstance.js';
import type { ChatResponseFormat } from '../types.js';

/** The JSON text of the answer, or undefined when the format is text (the plain echo). Throws OpenAI's 400. */
export function jsonOutput(format: ChatResponseFormat | undefined, echo: string, lastUserText: string): string | undefined {
  if (format == null || format.type === 'text') return undefined;
  if (!('json_schema' in format)) return JSON.stringify({ text: echo });
  const { name, schema } = format.json_schema;
  try {
    return schemaInstance(schema ?? {}, lastUserText);
  } catch (err) {
    if (!(err instanceof SchemaInstanceError)) throw err;
    throw badRequest(`Invalid schema for response_format '${name}': ${err.message}.`, 'response_format');
  }
}
