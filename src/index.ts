// The programmatic API: start a mock server in-process (tests, scripts), get its URL, change it, close it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createLogger } from './log.js';
import { defaultSettings, SettingsStore, validateSettings } from './settings.js';
import { applyHere, reconfigure } from './handlers/configure.js';
import { connectWorker, type WorkerLink } from './cluster.js';
import { Admission } from './model/admission.js';
import { LoraSlots } from './model/loraAdapters.js';
import { KvCache } from './model/kvCache.js';
import { PrefixCache } from './model/prefixCache.js';
import { StepClock } from './model/batching.js';
import { InFlight } from './http/inflight.js';
import { WorkSlices } from './model/timing.js';
import { EncodeWorker } from './model/encodeWorker.js';
import type { Deps } from './handlers/deps.js';
import type { HubOptions } from './model/tokenizers.js';
import { serveInChild } from './childServer.js';
import type { ConfigureRequest, Settings } from './types.js';
// The app (Koa, openapi-backend, Ajv), the tokenizer libraries and prom-client are imported by serve() when
// it runs: the --workers primary, which imports this module but serves nothing, never loads them.

export type { Settings, ConfigureRequest } from './types.js';
export { SettingError } from './settings.js';

export interface MockServerOptions extends Partial<Settings> {
  /** Where log lines go (default: stderr). */
  logWriter?: (line: string) => void;
  /** Hugging Face hub and cache locations (default: from HF_* environment variables). */
  hub?: HubOptions;
}

export interface MockServer {
  readonly url: string;
  readonly port: number;
  readonly settings: Readonly<Settings>;
  /** Applies a settings patch as POST /configure does (tokenizers loaded first, all or nothing); throws ApiError. */
  configure(patch: ConfigureRequest): Promise<Readonly<Settings>>;
  /** Stops accepting connections, ends open streams and frees the port. */
  close(): Promise<void>;
  /**
   * The graceful way (SIGTERM): stops accepting connections, lets requests in flight finish for up to
   * shutdown_timeout seconds, ends the rest (streams with an error event and [DONE]), then closes.
   */
  shutdown(): Promise<void>;
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

/** A URL a local client can use: wildcard hosts become the loopback address. */
export function urlOf(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/** Starts a server; resolves once every preloaded tokenizer is ready and the port is listening. */
export async function startMockServer(options: MockServerOptions = {}): Promise<MockServer> {
  const { logWriter, hub, ...given } = options;
  const settings = validateSettings({ ...defaultSettings(), port: 0, host: '127.0.0.1', ...given }, (s) => s.name);
  // Workers are processes of their own (node:cluster): they run under the CLI in a child process.
  if (settings.workers > 1) return serveInChild(settings, { logWriter, hub });
  return serve(settings, { logWriter, hub });
}

export interface ServeOptions {
  logWriter?: ((line: string) => void) | undefined;
  hub?: HubOptions | undefined;
  /** Set in a --workers child: settings changes go through the primary to every worker. */
  worker?: boolean;
}

/** Serves with settings that are already whole and valid (the CLI's path). */
export async function serve(settings: Settings, opts: ServeOptions = {}): Promise<MockServer> {
  const store = new SettingsStore(settings);
  const log = createLogger(() => store.current.log_level, opts.logWriter);
  // The app's modules load while the tokenizer files are read; each is awaited where it is first needed.
  const appModule = import('./app.js');
  appModule.catch(() => undefined); // awaited below; an early failure must not count as unhandled meanwhile
  const [{ TokenizerRegistry, hubOptionsFromEnv }, { Metrics }] = await Promise.all([import('./model/tokenizers.js'), import('./metrics.js')]);
  // Started on the first large prompt only; one per server, and so one per --workers child.
  const encodeWorker = new EncodeWorker(log);
  const tokenizers = new TokenizerRegistry(log, opts.hub ?? hubOptionsFromEnv(), {
    tokenizerDir: settings.tokenizer_dir,
    revision: settings.tokenizer_revision,
    characters: settings.no_tokenizer,
    worker: encodeWorker,
  });
  const admission = new Admission(() => store.current);
  store.onChange(() => admission.recheck());
  const loras = new LoraSlots(() => store.current.max_loras);
  store.onChange(() => loras.recheck());
  const kv = new KvCache(() => store.current, () => admission.recheck());
  let loaded = false;
  let delayed = true;
  let delayTimer: NodeJS.Timeout | undefined;
  // Not ready for `ms` from now: at start (startup_delay), and again when /configure sets startup_delay,
  // which is how a model reload looks to readiness probes.
  const delayReadiness = (ms: number): void => {
    clearTimeout(delayTimer);
    delayed = ms === 0;
    if (ms > 0) delayTimer = setTimeout(() => (delayed = true), ms).unref();
  };
  delayReadiness(settings.startup_delay);
  const deps: Deps = {
    store,
    tokenizers,
    log,
    name: pkg.name,
    version: pkg.version,
    startedAt: Math.floor(Date.now() / 1000),
    metrics: new Metrics(() => store.current),
    admission,
    loras,
    kv,
    prefix: new PrefixCache(() => store.current),
    steps: new StepClock(() => store.current),
    ready: () => loaded && delayed && !stopping,
    delayReadiness,
    inflight: new InFlight(),
    slices: new WorkSlices(),
    encodeWorker,
    stopping: () => stopping,
  };
  let stopping = false;
  let link: WorkerLink | undefined;
  if (opts.worker) {
    // Patches from the primary are applied one after another, in the order it sent them.
    let queue: Promise<unknown> = Promise.resolve();
    const applyInOrder = (patch: ConfigureRequest): Promise<void> => {
      const run = queue.then(() => applyHere(deps, patch));
      queue = run.catch(() => undefined);
      return run.then(() => undefined);
    };
    link = connectWorker(applyInOrder, (now) => {
      void (now ? close() : shutdown()).then(() => process.exit(0));
    });
    deps.broadcast = link.broadcast;
    deps.clusterMetrics = link.metrics;
    void deps.metrics.shareWithPrimary();
  }

  // Preload: the fallback and every named model. A model that fails is logged and served by the fallback.
  const preload = async (): Promise<void> => {
    const names = [...new Set([settings.fallback_tokenizer, ...settings.tokenizer_models])];
    await Promise.allSettled(names.map((n) => tokenizers.load(n)));
    if (!tokenizers.get(settings.fallback_tokenizer)) {
      log.warn(`the fallback tokenizer ${settings.fallback_tokenizer} is unavailable: requests for models not preloaded get 404`);
    }
    loaded = true;
  };
  // Listen at once with startup_delay, answering 503 until the delay has passed and the tokenizers are in:
  // readiness probes see it start. Without it, listen once the tokenizers are in.
  const preloaded = preload();
  const built = appModule.then(({ createApp }) => {
    const t0 = performance.now();
    return createApp(deps).then((app) => {
      log.debug(`app built in ${(performance.now() - t0).toFixed(0)} ms`);
      return app;
    });
  });
  const [app] = await Promise.all([built, settings.startup_delay > 0 ? undefined : preloaded]);
  const server: Server = createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  link?.listening(port);
  // Once: a second call gets the same promise. Dropping every connection ends streams in flight at once
  // (their clients see the connection close), so the port is free when the promise resolves.
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }).then(() => encodeWorker.close()));
  const shutdown = async (): Promise<void> => {
    if (stopping) return close();
    stopping = true;
    // No new connections; Node also closes the idle keep-alive ones. Requests on busy ones get 503.
    server.close();
    const patience = store.current.shutdown_timeout * 1000;
    log.info(`shutting down: ${deps.inflight.size} requests in flight, waiting up to ${patience / 1000} s`);
    if (!(await deps.inflight.settle(patience))) {
      log.warn(`shutdown: ending ${deps.inflight.size} requests still in flight`);
      deps.inflight.endAll();
    }
    await close();
  };
  const url = urlOf(settings.host, port);
  return {
    url,
    port,
    get settings() {
      return store.current;
    },
    configure: (patch) => reconfigure(deps, patch),
    close,
    shutdown,
  };
}
