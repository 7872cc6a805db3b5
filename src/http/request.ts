// Per-request state set by the first middleware: arrival time, the settings snapshot, the id, the body.
import { randomUUID } from 'node:crypto';
import type { ParameterizedContext } from 'koa';
import type { Settings } from '../types.js';
import type { FormFields } from './multipart.js';

export interface RequestState {
  /** performance.now() at arrival: the origin of TTFT. */
  start: number;
  /** The settings in force when the request arrived; later /configure calls do not change them. */
  settings: Readonly<Settings>;
  requestId: string;
  /** Arrival number (from 0): with a seed, it picks this request's random draws. */
  sequence: number;
  body: unknown;
  /** A multipart/form-data body's fields, until the router makes them the operation's `body`. */
  form?: FormFields;
}

export type AppContext = ParameterizedContext<RequestState>;

/** A random id, as OpenAI's are: a prefix and 24 hex characters. */
export function randomId(prefix: string): string {
  // randomUUID draws from a cached entropy pool; randomBytes asks OpenSSL on every call.
  const u = randomUUID();
  return `${prefix}${u.slice(0, 8)}${u.slice(9, 13)}${u.slice(15, 18)}${u.slice(19, 23)}${u.slice(24, 29)}`;
}
