// GET /health: the status, the settings in force and the state of the tokenizers.
import type { Deps, OperationHandler } from './deps.js';
import type { HealthBody } from '../types.js';

export default function getHealth(deps: Deps): OperationHandler {
  return (ctx) => {
    const body: HealthBody = { status: 'healthy', pid: process.pid, settings: deps.store.current, tokenizers: deps.tokenizers.status() };
    ctx.body = body;
  };
}
