// GET /health: the status, the settings in force and the state of the tokenizers; 503 while starting.
import { publicSettings } from '../settings.js';
import type { Deps, OperationHandler } from './deps.js';
import type { HealthBody } from '../types.js';
import { answerJson } from '../http/answer.js';

export default function getHealth(deps: Deps): OperationHandler {
  return (ctx) => {
    const ready = deps.ready();
    const body: HealthBody = {
      status: ready ? 'healthy' : 'starting',
      pid: process.pid,
      settings: publicSettings(deps.store.current),
      tokenizers: deps.tokenizers.status(),
    };
    ctx.status = ready ? 200 : 503;
    answerJson(ctx, body);
  };
}
