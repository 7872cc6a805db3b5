// --workers N: a primary process forks N workers that share one port (node:cluster). The primary owns the
// settings: a /configure taken by any worker is validated there, then sent to every worker, and answered
// only when all of them have applied it. A worker that dies is replaced with the settings in force.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './log.js';
import type { ConfigureRequest, Settings } from './types.js';

const SETTINGS_ENV = 'MOCK_SERVER_WORKER_SETTINGS';

/** Messages between the primary and its workers. */
type Message =
  | { kind: 'configure'; id: number; patch: ConfigureRequest }
  | { kind: 'apply'; id: number; patch: ConfigureRequest }
  | { kind: 'applied'; id: number; error?: string }
  | { kind: 'configured'; id: number; error?: string }
  | { kind: 'listening'; port: number }
  | { kind: 'metrics'; id: number }
  | { kind: 'metricsText'; id: number; text?: string; error?: string }
  | { kind: 'shutdown'; now: boolean };

export const isWorker = (): boolean => cluster.isWorker;

/** The settings the primary handed this worker. */
export function workerSettings(): Settings {
  const text = process.env[SETTINGS_ENV];
  if (!text) throw new Error(`${SETTINGS_ENV} is not set in a worker`);
  return JSON.parse(text) as Settings;
}

export interface PrimaryHandle {
  /** Resolves with the shared port once every worker is listening. */
  ready: Promise<number>;
  /** Asks every worker to shut down (gracefully, or `now`) and resolves when all have exited. */
  stop(now: boolean): Promise<void>;
}

/** Runs the primary: forks the workers, relays /configure, replaces workers that die. */
export function runPrimary(initial: Settings, log: Logger): PrimaryHandle {
  let settings: Settings = initial;
  let stopping = false;
  let nextId = 1;
  const pendingApplies = new Map<number, { waiting: Set<number>; errors: string[]; done: (error?: string) => void }>();

  const fork = (): Worker => {
    const worker = cluster.fork({ [SETTINGS_ENV]: JSON.stringify(settings) });
    worker.on('message', (msg: Message) => onMessage(worker, msg));
    return worker;
  };

  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());

  // Sends one patch to every worker and waits until each has applied it (or reported why not).
  const broadcast = (patch: ConfigureRequest): Promise<string | undefined> =>
    new Promise((resolve) => {
      const id = nextId++;
      const workers = live();
      const entry = { waiting: new Set(workers.map((w) => w.id)), errors: [] as string[], done: resolve };
      pendingApplies.set(id, entry);
      for (const w of workers) w.send({ kind: 'apply', id, patch } satisfies Message);
      if (workers.length === 0) {
        pendingApplies.delete(id);
        resolve(undefined);
      }
    });

  const settle = (id: number, workerId: number, error?: string): void => {
    const entry = pendingApplies.get(id);
    if (!entry) return;
    entry.waiting.delete(workerId);
    if (error) entry.errors.push(error);
    if (entry.waiting.size === 0) {
      pendingApplies.delete(id);
      entry.done(entry.errors[0]);
    }
  };

  // prom-client is loaded on the first /metrics, not while the workers start.
  let aggregator: Promise<{ clusterMetrics(): Promise<string> }> | undefined;
  const clusterMetrics = (): Promise<string> =>
    (aggregator ??= import('prom-client').then((m) => new m.AggregatorRegistry())).then((a) => a.clusterMetrics());
  let resolveReady: (port: number) => void = () => undefined;
  const ready = new Promise<number>((resolve) => (resolveReady = resolve));
  const listening = new Set<number>();

  const onMessage = (worker: Worker, msg: Message): void => {
    if (msg.kind === 'configure') {
      void broadcast(msg.patch).then((error) => {
        if (!error) settings = { ...settings, ...msg.patch } as Settings;
        worker.send({ kind: 'configured', id: msg.id, ...(error ? { error } : {}) } satisfies Message);
      });
    } else if (msg.kind === 'metrics') {
      clusterMetrics().then(
        (text) => worker.send({ kind: 'metricsText', id: msg.id, text } satisfies Message),
        (err: unknown) => worker.send({ kind: 'metricsText', id: msg.id, error: String(err) } satisfies Message),
      );
    } else if (msg.kind === 'applied') {
      settle(msg.id, worker.id, msg.error);
    } else if (msg.kind === 'listening') {
      listening.add(worker.id);
      if (listening.size >= initial.workers) resolveReady(msg.port);
    }
  };

  cluster.on('exit', (worker, code, signal) => {
    // A worker that is gone answers no broadcast.
    for (const id of [...pendingApplies.keys()]) settle(id, worker.id);
    if (stopping) return;
    log.error(`worker ${worker.process.pid} died (${signal ?? `exit code ${code}`}); starting a replacement`);
    fork();
  });

  for (let i = 0; i < initial.workers; i++) fork();

  return {
    ready,
    stop: async (now) => {
      stopping = true;
      const workers = live();
      // A worker that cannot finish in its own shutdown_timeout (plus a margin) is killed.
      const patience = now ? 5_000 : (settings.shutdown_timeout + 5) * 1000;
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.isDead()) return resolve();
              w.once('exit', () => resolve());
              w.send({ kind: 'shutdown', now } satisfies Message);
              setTimeout(() => w.kill('SIGKILL'), patience).unref();
            }),
        ),
      );
    },
  };
}

export interface WorkerLink {
  /** Asks the primary to apply a patch on every worker; resolves when all have, rejects with the reason. */
  broadcast(patch: ConfigureRequest): Promise<void>;
  /** Tells the primary this worker is listening. */
  listening(port: number): void;
  /** The metrics of every worker, summed by the primary. */
  metrics(): Promise<string>;
}

/** Connects a worker to its primary: `apply` is how this worker applies a patch the primary sends. */
export function connectWorker(apply: (patch: ConfigureRequest) => Promise<void>, shutdown: (now: boolean) => void): WorkerLink {
  let nextId = 1;
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  const metricsWaiting = new Map<number, { resolve: (text: string) => void; reject: (e: Error) => void }>();
  process.on('message', (msg: Message) => {
    if (msg.kind === 'apply') {
      apply(msg.patch).then(
        () => process.send?.({ kind: 'applied', id: msg.id } satisfies Message),
        (err: unknown) => process.send?.({ kind: 'applied', id: msg.id, error: err instanceof Error ? err.message : String(err) } satisfies Message),
      );
    } else if (msg.kind === 'configured') {
      const w = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) w?.reject(new Error(msg.error));
      else w?.resolve();
    } else if (msg.kind === 'metricsText') {
      const w = metricsWaiting.get(msg.id);
      metricsWaiting.delete(msg.id);
      if (msg.text !== undefined) w?.resolve(msg.text);
      else w?.reject(new Error(msg.error ?? 'no metrics'));
    } else if (msg.kind === 'shutdown') {
      shutdown(msg.now);
    }
  });
  return {
    broadcast(patch) {
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        process.send?.({ kind: 'configure', id, patch } satisfies Message);
      });
    },
    listening(port) {
      process.send?.({ kind: 'listening', port } satisfies Message);
    },
    metrics() {
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        metricsWaiting.set(id, { resolve, reject });
        process.send?.({ kind: 'metrics', id } satisfies Message);
      });
    },
  };
}
