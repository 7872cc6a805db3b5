// GET /openapi.json: the contract as JSON, for tools that do not read YAML.
import { contract } from '../contract.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getOpenApiJson(_deps: Deps): OperationHandler {
  // Serialized once: the document never changes while the server runs.
  const text = JSON.stringify(contract());
  return (ctx) => {
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = text;
  };
}
