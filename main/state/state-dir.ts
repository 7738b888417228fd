import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, win32 } from 'node:path';

export const APP_NAME = 'hsm-workbench';

export interface StateDirOptions {
  /** The `--state-dir` flag. */
  flag?: string;
  env?: NodeJS.ProcessEnv;
  /** For tests: the platform and home directory to compute the default for. */
  platform?: NodeJS.Platform;
  home?: string;
}

/**
 * Where the state file, its lock and the audit log live: `--state-dir`, else `HSM_WORKBENCH_HOME`,
 * else the per-user data directory Electron's `app.getPath('userData')` gives an app named
 * hsm-workbench — computed here without Electron so the GUI and the CLI always agree.
 */
export function defaultStateDir(options: Omit<StateDirOptions, 'flag'> = {}): string {
  const { env = process.env, platform = process.platform, home = homedir() } = options;
  if (platform === 'win32') return win32.join(nonEmpty(env.APPDATA) ?? win32.join(home, 'AppData', 'Roaming'), APP_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_NAME);
  return join(nonEmpty(env.XDG_CONFIG_HOME) ?? join(home, '.config'), APP_NAME);
}

/** Resolves the state directory and creates it, readable by its owner only (0700). */
export function resolveStateDir(options: StateDirOptions = {}): string {
  const { flag, env = process.env } = options;
  const dir = resolve(nonEmpty(flag) ?? nonEmpty(env.HSM_WORKBENCH_HOME) ?? defaultStateDir(options));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}
