// What every handler is given: the settings store, the tokenizers, the logger and the server's identity.
import type { SettingsStore } from '../settings.js';
import type { TokenizerRegistry, LoadedTokenizer } from '../model/tokenizers.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Admission } from '../model/admission.js';
import { adapterFor, baseModelOf, type LoraSlots } from '../model/loraAdapters.js';
import type { KvCache } from '../model/kvCache.js';
import type { PrefixCache } from '../model/prefixCache.js';
import type { StepClock } from '../model/batching.js';
import type { InFlight } from '../http/inflight.js';
import type { WorkSlices } from '../model/timing.js';
import type { EncodeWorker } from '../model/encodeWorker.js';
import type { AppContext } from '../http/request.js';
import { ApiError } from '../http/errors.js';
import type { ConfigureRequest, Settings } from '../types.js';

export interface Deps {
  store: SettingsStore;
  tokenizers: TokenizerRegistry;
  log: Logger;
  name: string;
  version: string;
  /** Unix seconds when the server started: the `created` of its models. */
  startedAt: number;
  metrics: Metrics;
  admission: Admission;
  /** vLLM's --max-loras: which adapters have requests running, and who waits for one. */
  loras: LoraSlots;
  /** The engine model's KV cache (used only while enable_kv_cache is on). */
  kv: KvCache;
  /** The engine model's prefix cache (used only while enable_prefix_caching is on). */
  prefix: PrefixCache;
  /** The engine model's step clock (used only while enable_continuous_batching is on). */
  steps: StepClock;
  /** Time slices of inference work, so /health and I/O are served under overload. */
  slices: WorkSlices;
  /** Where large prompts are tokenized and large JSON bodies parsed, off the event loop. */
  encodeWorker?: EncodeWorker;
  /** Inference requests in flight, for a graceful shutdown. */
  inflight: InFlight;
  /** True once a shutdown began: new inference requests are refused. */
  stopping: () => boolean;
  /** False during startup_delay and while the preloaded tokenizers load: /health and inference answer 503. */
  ready: () => boolean;
  /** Makes the server not ready for `ms` from now (startup_delay set by /configure: a model reload). */
  delayReadiness: (ms: number) => void;
  /** With --workers: the text of /metrics summed over every worker. */
  clusterMetrics?: (() => Promise<string>) | undefined;
  /** With --workers: applies a validated patch on every worker, this one included, before resolving. */
  broadcast?: ((patch: ConfigureRequest) => Promise<void>) | undefined;
}

export type OperationHandler = (ctx: AppContext, params: Record<string, string>) => unknown;

/** The models served under their own tokenizer: the preloaded ones that loaded, then the fallback. */
export function servedModelIds(deps: Deps, settings: Readonly<Settings>): string[] {
  return [...new Set([...settings.tokenizer_models, settings.fallback_tokenizer])].filter((n) => deps.tokenizers.get(n) !== undefined);
}

/**
 * The requested model's tokenizer when it was preloaded (a LoRA adapter's is its base model's), else the
 * fallback; 404 when neither is there.
 */
export function tokenizerFor(deps: Deps, model: string, settings: Readonly<Settings>): LoadedTokenizer {
  const adapter = adapterFor(settings, model);
  const name = adapter ? (baseModelOf(adapter, servedModelIds(deps, settings)) ?? model) : model;
  const tok = deps.tokenizers.get(name) ?? deps.tokenizers.get(settings.fallback_tokenizer);
  if (tok) return tok;
  throw new ApiError(
    404,
    `The model '${model}' does not exist and the fallback tokenizer '${settings.fallback_tokenizer}' is not available.`,
    'model',
    'model_not_found',
  );
}
