// The request validators of the operations a benchmark sends first (the completions), stored as code by the
// build: openapi-backend compiles an operation's validators on its first request, and the chat completion's
// took ~27 ms of the first answer after every start (~13 ms the completion's). The build makes them with the
// router's own options and Ajv's standalone output, beside the prepared contract and with its hash; a start
// whose contract came from that same prepared file hands them to the router, and any other compiles as before.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Ajv, ValidateFunction } from 'ajv';
import type { Document, Options } from 'openapi-backend';
import { contract, preparedContractPath, preparedContractSha256 } from './contract.js';

/** The operations whose request validators the build stores. */
export const STORED_OPERATIONS = ['createChatCompletion', 'createCompletion'] as const;

/** openapi-backend's options: the app's router and the build's copy of it must validate alike. */
export function routerOptions(extra: Partial<Options> = {}): Options {
  return {
    definition: structuredClone(contract()) as unknown as Document,
    quick: true,
    ...extra,
    // The contract is checked by `npm run lint:spec` and the contract tests; checking every schema against
    // JSON Schema's meta-schema again at each start took longer than compiling them.
    ajvOpts: { strict: false, allErrors: false, validateSchema: false, ...extra.ajvOpts },
  };
}

const fileOf = (dir: string, operationId: string): string => join(dir, `request-validators.${operationId}.cjs`);

/** The build's step: each stored operation's validators, in openapi-backend's order, as one CommonJS module. */
export async function writePreparedRequestValidators(dir = dirname(preparedContractPath)): Promise<void> {
  const require = createRequire(import.meta.url);
  const { OpenAPIBackend } = require('openapi-backend') as typeof import('openapi-backend');
  const standalone = (require('ajv/dist/standalone') as { default: (ajv: Ajv, validate: ValidateFunction) => string }).default;
  const sha256 = preparedContractSha256();
  if (sha256 === undefined) throw new Error('the prepared contract is missing or stale: write it first');
  // openapi-backend makes a new Ajv for each validator it compiles, just before compiling it.
  let made: Ajv[] = [];
  const api = new OpenAPIBackend(routerOptions({ ajvOpts: { code: { source: true } }, customizeAjv: (ajv) => (made.push(ajv as unknown as Ajv), ajv) }));
  await api.init();
  for (const operationId of STORED_OPERATIONS) {
    made = [];
    const validators = api.validator.getRequestValidatorsForOperation(operationId) ?? [];
    if (made.length !== validators.length) throw new Error(`${operationId}: ${validators.length} validators from ${made.length} Ajv instances`);
    const modules = validators.map((v, i) => `(function () {\nconst module = { exports: {} };\n${standalone(made[i]!, v as unknown as ValidateFunction)}\nreturn module.exports;\n})()`);
    writeFileSync(fileOf(dir, operationId), `"use strict";\nexports.sha256 = ${JSON.stringify(sha256)};\nexports.validators = [\n${modules.join(',\n')}\n];\n`);
  }
}

/** The stored validators of each stored operation, when they were made from the contract in use. */
export function preparedRequestValidators(dir = dirname(preparedContractPath)): Map<string, ValidateFunction[]> {
  const out = new Map<string, ValidateFunction[]>();
  const sha256 = preparedContractSha256();
  if (sha256 === undefined) return out;
  const require = createRequire(import.meta.url);
  for (const operationId of STORED_OPERATIONS) {
    try {
      const stored = require(fileOf(dir, operationId)) as { sha256?: unknown; validators?: unknown };
      if (stored.sha256 === sha256 && Array.isArray(stored.validators) && stored.validators.every((v) => typeof v === 'function')) {
        out.set(operationId, stored.validators as ValidateFunction[]);
      }
    } catch {
      // not built: compiled on first use
    }
  }
  return out;
}
