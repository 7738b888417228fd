import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, describeError, workbenchLogPath } from './logger';

let dir: string;
let stderr: string[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hsmwb-log-'));
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('the workbench log', () => {
  it('stderr shows no stack unless the level is debug; the file keeps it', async () => {
    const file = workbenchLogPath(dir);
    createLogger({ level: 'warn', file }).error('boom', describeError(new Error('broken')));
    expect(stderr).toHaveLength(1);
    expect(JSON.parse(stderr[0] ?? '')).toMatchObject({ level: 'error', message: 'boom', errorMessage: 'broken' });
    expect(stderr[0]).not.toContain('stack');
    const record = JSON.parse(await readFile(file, 'utf8')) as { stack?: string };
    expect(record.stack).toMatch(/Error: broken\n\s+at /);

    createLogger({ level: 'debug' }).error('boom', describeError(new Error('shown')));
    expect(stderr[1]).toContain('"stack"');
  });

  it('writes one terminal-safe JSON line to stderr: no raw C1, bidi or line separators from a message', () => {
    createLogger({ level: 'warn' }).warn('module \u009b31m\u202e\u2028says', { modulePath: '/x\u009b.so' });
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2028\u2029]/);
    expect(stderr[0]?.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(stderr[0] ?? '')).toMatchObject({ message: 'module \u009b31m\u202e\u2028says', modulePath: '/x\u009b.so' });
  });

  it('is private to its owner, keeps info records that stderr leaves out, and redacts secrets', async () => {
    const file = workbenchLogPath(dir);
    createLogger({ level: 'warn', file }).info('started', { KmsuserPassword: 'hunter2-secret' });
    expect(stderr).toEqual([]);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('"message":"started"');
    expect(text).not.toContain('hunter2-secret');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'logs'))).mode & 0o777).toBe(0o700);
  });

  it('a log that cannot be written never fails the call that logs', async () => {
    await writeFile(join(dir, 'logs'), 'a file where the log directory belongs');
    const logger = createLogger({ level: 'warn', file: workbenchLogPath(dir) });
    expect(() => logger.error('still reported')).not.toThrow();
    expect(stderr).toHaveLength(1);
  });
});
