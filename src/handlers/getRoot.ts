// GET /: what this server is, its endpoints (read from the contract) and its settings.
import { publicSettings } from '../settings.js';
import { contract } from '../contract.js';
import type { Deps, OperationHandler } from './deps.js';
import type { RootBody } from '../types.js';
import { answerJson } from '../http/answer.js';

export default function getRoot(deps: Deps): OperationHandler {
  const doc = contract();
  const endpoints = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, summary: op.summary ?? '' })),
  );
  return (ctx) => {
    const body: RootBody = {
      name: deps.name,
      version: deps.version,
      description: doc.info.description?.split('\n')[0] ?? '',
      endpoints,
      settings: publicSettings(deps.store.current),
    };
    answerJson(ctx, body);
  };
}
