// The tool-call rule and the schema instances behind tool arguments and structured outputs
// (src/model/toolCall.ts, src/model/schemaInstance.ts): every instance validates against its schema (Ajv, the
// contract's own validator), the same prompt gets the same calls, and each branch of the rule holds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { schemaInstance, SchemaInstanceError, type JsonSchema } from '../src/model/schemaInstance.js';
import { callAt, callTokens, toolCalls, UnknownTool, type ToolCallRequest } from '../src/model/toolCall.js';

const SCHEMAS: Record<string, JsonSchema> = {
  weather: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
    required: ['city', 'unit', 'days'],
    additionalProperties: false,
  },
  strictNested: {
    type: 'object',
    properties: {
      items: { type: 'array', minItems: 1, maxItems: 3, items: { $ref: '#/$defs/item' } },
      note: { type: ['string', 'null'] },
      when: { type: 'string', format: 'date-time' },
      code: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{2}$' },
    },
    required: ['items', 'note', 'when', 'code'],
    additionalProperties: false,
    $defs: { item: { type: 'object', properties: { sku: { type: 'string', minLength: 2 }, qty: { type: 'number', exclusiveMinimum: 0 } }, required: ['sku', 'qty'], additionalProperties: false } },
  },
  union: { anyOf: [{ type: 'object', properties: { a: { const: 1 } }, required: ['a'] }, { type: 'boolean' }] },
  empty: { type: 'object' },
  scalar: { type: 'integer', multipleOf: 5, minimum: 10, maximum: 30 },
};

describe('schemaInstance', () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    test(`${name}: valid for many seeds, and the same for the same seed`, () => {
      const validate = ajv.compile(schema);
      for (let i = 0; i < 40; i++) {
        const text = schemaInstance(schema, `prompt ${i}`);
        assert.ok(validate(JSON.parse(text)), `${name} #${i}: ${text} ${JSON.stringify(validate.errors)}`);
        assert.equal(schemaInstance(schema, `prompt ${i}`), text);
      }
    });
  }

  test('a schema that admits nothing is a SchemaInstanceError', () => {
    assert.throws(() => schemaInstance({ $ref: '#/$defs/missing' }, 'x'), SchemaInstanceError);
  });
});

describe('toolCalls', () => {
  const tools = [
    { name: 'get_weather', parameters: SCHEMAS.weather },
    { name: 'book_table', parameters: SCHEMAS.strictNested },
    { name: 'no_params' },
  ];
  const base: ToolCallRequest = { tools, choice: 'auto', mode: 'auto', parallel: true, lastUserText: 'Hello there', afterToolResult: false };
  const names = (r: Partial<ToolCallRequest>): string[] => toolCalls({ ...base, ...r }).map((c) => c.name);

  test('auto calls the first tool when none is named, and answers in text after tool results', () => {
    assert.deepEqual(names({}), ['get_weather']);
    assert.deepEqual(names({ afterToolResult: true }), []);
  });
  test('the tools named in the last user turn, in the tools order; one unless parallel', () => {
    const lastUserText = 'Please BOOK_TABLE for two, then get_weather in Paris';
    assert.deepEqual(names({ lastUserText }), ['get_weather', 'book_table']);
    assert.deepEqual(names({ lastUserText, parallel: false }), ['get_weather']);
  });
  test('tool_choice none never calls; required and named always do', () => {
    assert.deepEqual(names({ choice: 'none', mode: 'always' }), []);
    assert.deepEqual(names({ choice: 'none', mode: { name: 'book_table' } }), []);
    assert.deepEqual(names({ choice: 'required', mode: 'never', afterToolResult: true }), ['get_weather']);
    assert.deepEqual(names({ choice: { name: 'no_params' }, mode: 'never' }), ['no_params']);
  });
  test('modes: never answers in text, always calls after tool results, a name forces that tool', () => {
    assert.deepEqual(names({ mode: 'never' }), []);
    assert.deepEqual(names({ mode: 'always', afterToolResult: true }), ['get_weather']);
    assert.deepEqual(names({ mode: { name: 'book_table' }, afterToolResult: true }), ['book_table']);
  });
  test('an unknown named tool is UnknownTool', () => {
    assert.throws(() => toolCalls({ ...base, choice: { name: 'nope' } }), UnknownTool);
    assert.throws(() => toolCalls({ ...base, mode: { name: 'nope' } }), UnknownTool);
  });
  test('arguments: valid, deterministic per prompt, different for another prompt', () => {
    const a = toolCalls({ ...base, lastUserText: 'weather in Oslo?' })[0]!;
    assert.deepEqual(toolCalls({ ...base, lastUserText: 'weather in Oslo?' })[0], a);
    const b = toolCalls({ ...base, lastUserText: 'weather in Lima?' })[0]!;
    assert.notEqual(a.arguments, b.arguments);
    assert.equal(JSON.parse(toolCalls({ ...base, choice: { name: 'no_params' } })[0]!.arguments).constructor, Object);
  });
});

describe('callTokens', () => {
  test('concatenates each call\'s ids and finds the call of every token', () => {
    const encode = (text: string): number[] => Array.from(text, (ch) => ch.charCodeAt(0));
    const t = callTokens([{ name: 'a', arguments: '{}' }, { name: 'b', arguments: '{"x":1}' }], encode);
    assert.deepEqual(t.ends, [2, 9]);
    assert.equal(t.ids.length, 9);
    assert.deepEqual([0, 1, 2, 8, 9].map((k) => callAt(t, k)), [0, 0, 1, 1, 1]);
  });
});
