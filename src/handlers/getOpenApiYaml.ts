// GET /openapi.yaml: the contract this server routes and validates with, as the file it was read from.
import { readFileSync } from 'node:fs';
import { contractPath } from '../contract.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getOpenApiYaml(_deps: Deps): OperationHandler {
  const text = readFileSync(contractPath);
  return (ctx) => {
    ctx.type = 'application/yaml; charset=utf-8';
    ctx.body = text;
  };
}
