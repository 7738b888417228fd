import { redactSecrets } from '../audit/redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * JSON lines on stderr (stdout belongs to CLI output). Every field passes through the same
 * redaction as the audit log, so a PIN handed to a log call by mistake is still never written.
 */
export function createLogger(level: LogLevel = (process.env.HSM_WORKBENCH_LOG as LogLevel | undefined) ?? 'warn'): Logger {
  const threshold = ORDER[level] ?? ORDER.warn;
  const write = (at: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (ORDER[at] < threshold) return;
    const record = { time: new Date().toISOString(), level: at, message, ...(fields ? (redactSecrets(fields) as Record<string, unknown>) : {}) };
    process.stderr.write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** Describes an unexpected error for the log: name, message and stack, never the object's own fields. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { errorName: error.name, errorMessage: error.message, stack: error.stack };
  return { error: typeof error };
}
