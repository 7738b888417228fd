import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The bundled fixture (tests/fixtures/state-writer.ts), built by vitest's globalSetup. */
export const WRITER = fileURLToPath(new URL('../../dist/tests/state-writer.js', import.meta.url));

export interface WriterResult {
  code: number | null;
  output: { ok: boolean; result?: unknown; error?: { name: string; message: string; details?: Record<string, unknown> } };
  stderr: string;
}

/** Runs the fixture to completion in its own OS process. */
export function runWriter(args: string[], env: Record<string, string> = {}): Promise<WriterResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve({ code, output: JSON.parse(last) as WriterResult['output'], stderr });
      } catch {
        reject(new Error(`writer printed no result (exit ${String(code)}): ${stdout}${stderr}`));
      }
    });
  });
}

/** Starts a fixture process that takes the state lock and keeps it; resolves once it holds it. */
export function startLockHolder(stateDir: string, program = 'cli'): Promise<ChildProcess & { pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, 'hold', stateDir, program], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('"locked":true') && child.pid !== undefined) resolve(child as ChildProcess & { pid: number });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`lock holder exited early (${String(code)}): ${stdout}`)));
  });
}

export function waitForExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}
