// A levelled logger on stderr; the level is read from the settings on every call, so /configure applies at once.
import type { Settings } from './types.js';

const RANK = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 } as const;
type Level = keyof typeof RANK;

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  enabled(level: Level): boolean;
}

export function createLogger(level: () => Settings['log_level'], write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const enabled = (l: Level): boolean => RANK[l] >= RANK[level()];
  const at = (l: Level) => (msg: string) => {
    if (enabled(l)) write(`${new Date().toISOString()} ${l.padEnd(7)} ${msg}\n`);
  };
  return { debug: at('DEBUG'), info: at('INFO'), warn: at('WARNING'), error: at('ERROR'), enabled };
}
