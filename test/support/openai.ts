// What the tests of OpenAI's APIs share: OpenAI's own OpenAPI description (the outside oracle, read from
// ../shared/conformance/), and the check that a refusal is in OpenAI's error shape.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
