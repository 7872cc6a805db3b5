// startMockServer() with `workers` > 1: node:cluster forks copies of the process that runs it, so the workers
// need a process of their own. The CLI runs as a child (its primary owns the workers, as with `mock-server -w N`),
// and this side talks to it over HTTP like any client. Same MockServer, same settings, same errors.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ApiError } from './http/errors.js';
import { SETTINGS } from './settings.js';
import type { HubOptions } from './model/tokenizers.js';
import type { MockServer } from './index.js';
import type { ConfigureRequest, ErrorBody, Schemas, Settings } from './types.js';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

export interface ChildOptions {
  logWriter?: ((line: string) => void) | undefined;
  hub?: HubOptions | undefined;
}

/** Every setting as the MOCK_SERVER_* variable the CLI reads, so the child starts with exactly these settings. */
function settingsEnv(settings: Settings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of SETTINGS) {
    const v: unknown = settings[s.name];
    // A null setting (no key, no tokenizer dir) is its default: leave the variable out.
    if (v !== null) env[s.env] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return env;
}

/** This process's environment without MOCK_SERVER_* variables: the child's settings are exactly the options. */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MOCK_SERVER_')));
}

function hubEnv(hub: HubOptions | undefined): Record<string, string> {
  if (!hub) return {};
  return {
    HF_ENDPOINT: hub.hubUrl,
    HF_HUB_CACHE: hub.cacheDir,
    HF_HUB_OFFLINE: hub.offline ? '1' : '0',
    ...(hub.accessToken ? { HF_TOKEN: hub.accessToken } : {}),
  };
}

export async function serveInChild(settings: Settings, opts: ChildOptions = {}): Promise<MockServer> {
  const write = opts.logWriter ?? ((line: string) => void process.stderr.write(line));
  const child = spawn(process.execPath, [CLI], {
    env: { ...inheritedEnv(), ...settingsEnv(settings), ...hubEnv(opts.hub) },
    // stdout only carries the hub client's download chatter.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The child must not outlive this process, even when close() is never called.
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  const exited: Promise<void> = once(child, 'exit').then(() => void process.off('exit', kill));

  let pending = '';
  let seen = '';
  const listening = new Promise<{ url: string; port: number }>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      pending += text;
      let end: number;
      while ((end = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, end + 1);
        pending = pending.slice(end + 1);
        seen += line;
        write(line);
        const m = /listening on (http:\/\/\S+) \(port (\d+)/.exec(line);
        if (m) resolve({ url: m[1]!, port: Number(m[2]) });
      }
    });
    void exited.then(() => reject(new Error(`mock-server exited with ${child.exitCode ?? child.signalCode} before listening:\n${seen}${pending}`)));
  });
  const { url, port } = await listening;

  let current: Readonly<Settings> = Object.freeze({ ...settings });
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    get settings() {
      return current;
    },
    async configure(patch: ConfigureRequest) {
      const auth: Record<string, string> = settings.admin_key === null ? {} : { authorization: `Bearer ${settings.admin_key}` };
      const res = await fetch(`${url}/configure`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(patch) });
      if (!res.ok) {
        const { error } = (await res.json()) as ErrorBody;
        throw new ApiError(res.status, error.message, error.param, error.code, error.type);
      }
      current = Object.freeze(((await res.json()) as Schemas['ConfigureResponse']).settings);
      return current;
    },
    close(): Promise<void> {
      // Two signals: the second means now, so the primary has every worker cut its streams and close at once.
      if (!closing) {
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGTERM'), 50).unref();
        closing = exited;
      }
      return closing;
    },
    shutdown(): Promise<void> {
      // One signal: the primary has every worker let its streams finish for up to shutdown_timeout.
      if (!closing) {
        child.kill('SIGTERM');
        closing = exited;
      }
      return closing;
    },
  };
}
