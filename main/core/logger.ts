import { closeSync, constants, lstatSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redactSecrets } from '../audit/redact';
import { terminalSafeJson } from '../../shared/terminal-text';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  /** What reaches stderr; default HSM_WORKBENCH_LOG, else 'warn'. */
  level?: LogLevel;
  /** The workbench log file (see workbenchLogPath); it gets info and above, with stacks. */
  file?: string;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where `toErrorInfo`'s "the workbench log" is: beside the state it concerns, so every front end finds the same one. */
export const WORKBENCH_LOG_DIR = 'logs';
export const WORKBENCH_LOG_FILE = 'workbench.log';
/** At this size the log is moved to workbench.log.1 (replacing the one before), so it cannot fill a disk. */
const LOG_ROTATE_BYTES = 5 * 1024 * 1024;

export function workbenchLogPath(stateDir: string): string {
  return join(stateDir, WORKBENCH_LOG_DIR, WORKBENCH_LOG_FILE);
}

function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && value in ORDER;
}

/**
 * JSON lines on stderr (stdout belongs to CLI output), and in the workbench log file when one is
 * given. Stacks go to the file, and to stderr only at debug level: a user reads stderr, a
 * maintainer reads the file. Every field passes through the same redaction as the audit log, so a
 * PIN handed to a log call by mistake is still never written.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const envLevel = process.env.HSM_WORKBENCH_LOG;
  const level = options.level ?? (isLogLevel(envLevel) ? envLevel : 'warn');
  const fileThreshold = Math.min(ORDER[level], ORDER.info);
  const appendToFile = options.file === undefined ? undefined : fileAppender(options.file);
  const write = (at: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    const record = { time: new Date().toISOString(), level: at, message, ...(fields ? (redactSecrets(fields) as Record<string, unknown>) : {}) };
    if (appendToFile && ORDER[at] >= fileThreshold) appendToFile(`${JSON.stringify(record)}\n`);
    if (ORDER[at] < ORDER[level]) return;
    // Messages carry paths and module text: escaped for the terminal like every other line the CLI prints.
    process.stderr.write(`${terminalSafeJson(level === 'debug' ? record : withoutStack(record), 0)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

function withoutStack(record: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...record };
  delete copy.stack;
  return copy;
}

/**
 * Appends synchronously (a record must be on disk before a crash it describes), without following
 * a symbolic link. A log that cannot be written (read-only directory, disk full) must not turn into
 * a second failure: the record still reached stderr if its level asked for it.
 */
function fileAppender(path: string): (line: string) => void {
  let rotated = false;
  return (line) => {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // The workbench's own files are never written through a link: a linked logs/ directory gets no log.
      if (lstatSync(dirname(path)).isSymbolicLink()) return;
      if (!rotated) {
        rotated = true;
        if ((statSync(path, { throwIfNoEntry: false })?.size ?? 0) > LOG_ROTATE_BYTES) renameSync(path, `${path}.1`);
      }
      const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o600);
      try {
        writeSync(fd, line);
      } finally {
        closeSync(fd);
      }
    } catch {
      // See above: logging never fails the operation it describes.
    }
  };
}

/** Describes an unexpected error for the log: name, message and stack, never the object's own fields. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { errorName: error.name, errorMessage: error.message, stack: error.stack };
  return { error: typeof error };
}
