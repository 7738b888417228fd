import { mkdirSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, win32 } from 'node:path';
import { WorkbenchError } from '../../shared/errors';
import { fileSystemError, isErrno } from './safe-files';

export const APP_NAME = 'hsm-workbench';

export interface StateDirOptions {
  /** The `--state-dir` flag. */
  flag?: string;
  env?: NodeJS.ProcessEnv;
  /** For tests: the platform and home directory to compute the default for. */
  platform?: NodeJS.Platform;
  home?: string;
  /** False for commands that only read the state: a missing directory is refused, not created (default true). */
  create?: boolean;
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

/** Resolves the state directory and prepares it (see prepareStateDir). */
export function resolveStateDir(options: StateDirOptions = {}): string {
  const { flag, env = process.env, create = true } = options;
  const dir = resolve(nonEmpty(flag) ?? nonEmpty(env.HSM_WORKBENCH_HOME) ?? defaultStateDir(options));
  prepareStateDir(dir, { create });
  return dir;
}

const WHERE = 'Check --state-dir (or HSM_WORKBENCH_HOME)';

/**
 * Makes sure `dir` is a state directory the workbench may use, creating it (0700, readable by its
 * owner only) when `create` is set. A reader does not create one: a typo in --state-dir would
 * otherwise make an empty directory and report "No clusters" as if that were the truth.
 * Like ssh with ~/.ssh, a directory another user owns or every user may write to is refused:
 * whoever can write there can replace the state file or the audit log.
 */
export function prepareStateDir(dir: string, options: { create: boolean }): void {
  let info: Stats;
  try {
    info = statSync(dir);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw fileSystemError(error, 'use the state directory', dir, 'StateDirectoryException');
    if (!options.create) {
      throw new WorkbenchError('StateDirectoryException', `There is no state directory at ${dir}. ${WHERE}: a command that only reads the state does not create one.`, {
        details: { path: dir },
      });
    }
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      info = statSync(dir);
    } catch (mkdirError) {
      throw fileSystemError(mkdirError, 'create the state directory', dir, 'StateDirectoryException');
    }
  }
  if (!info.isDirectory()) {
    throw new WorkbenchError('StateDirectoryException', `The state directory ${dir} is not a directory. ${WHERE}: it must name a directory (it is created when missing).`, {
      details: { path: dir },
    });
  }
  refuseUnsafe(dir, info);
}

function refuseUnsafe(dir: string, info: Stats): void {
  const uid = process.getuid?.();
  if (uid === undefined) return; // Windows: no POSIX owner or mode bits; the per-user profile directory is private.
  const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
  if (info.uid !== uid && info.uid !== 0) {
    throw new WorkbenchError(
      'StateDirectoryException',
      `The state directory ${dir} belongs to uid ${info.uid}, not to you (uid ${uid}): its owner could change the state file under you. ` +
        `Use a state directory of your own, or take this one over: chown -R ${uid} "${dir}".`,
      { details: { path: dir, ownerUid: info.uid, uid } },
    );
  }
  // Group-writable is the norm under user-private groups (umask 002), where the group is the user's own; any other
  // group, or a directory someone else (root) owns, lets other people replace the files.
  if ((info.mode & 0o020) !== 0 && (info.uid !== uid || info.gid !== process.getgid?.())) {
    throw new WorkbenchError(
      'StateDirectoryException',
      `The state directory ${dir} is writable by group ${info.gid} (mode ${mode}), which is not your own group: its members could replace the state file or the audit log. Make it private: chmod 700 "${dir}".`,
      { details: { path: dir, mode, gid: info.gid } },
    );
  }
  if ((info.mode & 0o002) !== 0) {
    throw new WorkbenchError(
      'StateDirectoryException',
      `The state directory ${dir} is writable by every user (mode ${mode}): anyone could replace the state file or the audit log. Make it private: chmod 700 "${dir}".`,
      { details: { path: dir, mode } },
    );
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}
