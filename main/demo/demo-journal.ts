import { access, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ClusterId } from '../../shared/contract/clusters';
import { WorkbenchError } from '../../shared/errors';
import { softHsmConfPath } from '../softhsm/softhsm-config';
import { readTextIfExists, tempFileWriter, writeFileDurably } from '../state/durable-json-file';
import { notAFileError, refuseSymlink } from '../state/safe-files';
import { isProcessAlive } from '../state/lock-file';

/**
 * The demo's intent record, inside the demo directory. It is written durably before any token is
 * touched and says whether the throwaway credentials reached the user. They are never stored, so a
 * demo whose credentials were not shown cannot be finished, only started over; one whose credentials
 * were shown must never be wiped by a later demo init.
 */
export const DEMO_JOURNAL_FILE = 'demo-init.json';

const DemoJournal = z.object({
  /** started: tokens may be half-made and the credentials were not (confirmed) shown. shown: complete. */
  Phase: z.enum(['started', 'shown']),
  StartedAt: z.string(),
  /** The process making the demo: it alone may confirm it, and while it lives no one else starts it over. */
  Owner: z.object({ Pid: z.number().int(), Hostname: z.string() }),
  /**
   * The demo's cluster, once recorded: a start-over removes its demo CA (outside this directory) even after
   * the cluster record is gone. Checked as an id, as it names a directory to remove.
   */
  ClusterId: ClusterId.optional(),
});
export type DemoJournal = z.infer<typeof DemoJournal>;

/** What a demo directory holds, as a (re-)run of demo init finds it. */
export type DemoDirState =
  | { kind: 'absent' }
  /** A run killed between creating the directory and writing its journal: no token was touched. */
  | { kind: 'leftover' }
  /** Another live process is making it (or showing its credentials). */
  | { kind: 'in-progress'; journal: DemoJournal }
  /**
   * Its maker is gone, or is this process, which holds the demo lock, so none of its calls is making it:
   * the credentials will never be shown (unless this process now confirms them).
   */
  | { kind: 'interrupted'; journal: DemoJournal }
  /** The credentials were shown, or the demo predates journals (its configuration exists without one). */
  | { kind: 'complete' };

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export async function inspectDemoDir(dir: string): Promise<DemoDirState> {
  // A start-over removes what the directory holds: a link would aim that at wherever it points.
  const info = await refuseSymlink(dir, { what: 'The demo directory' });
  if (info === undefined) return { kind: 'absent' };
  if (!info.isDirectory()) throw notAFileError(dir, info, { what: 'The demo directory' });
  const path = join(dir, DEMO_JOURNAL_FILE);
  const text = await readTextIfExists(path, 'The demo journal');
  if (text === null) {
    if (await exists(softHsmConfPath(dir))) return { kind: 'complete' };
    // No journal, so nothing proves the workbench made what is there: only a directory holding at most a
    // journal's temp file (a run killed between mkdir and its journal) is a leftover it may remove.
    const strays = (await readdir(dir)).filter((name) => tempFileWriter(path, name) === undefined);
    if (strays.length > 0) {
      throw new WorkbenchError(
        'FileSystemException',
        `${dir} has no demo journal but holds files the workbench did not make there (${strays.slice(0, 5).join(', ')}${strays.length > 5 ? ', …' : ''}). Nothing was removed. Move it aside, then run demo init again.`,
        { details: { path: dir } },
      );
    }
    return { kind: 'leftover' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const journal = DemoJournal.safeParse(parsed);
  if (!journal.success) {
    // It is written by atomic rename, so only an outside edit breaks it; guessing could wipe a demo in use.
    throw new WorkbenchError(
      'ValidationException',
      `The demo journal ${path} is not readable, so it cannot tell whether this demo's credentials were shown. Nothing was changed. To start over, delete the demo cluster and ${dir}.`,
      { details: { path } },
    );
  }
  if (journal.data.Phase === 'shown') return { kind: 'complete' };
  const { Owner } = journal.data;
  // A maker on another host (a shared state directory) is never presumed dead, as for lock files.
  const gone = isOwnJournal(journal.data) || (Owner.Hostname === hostname() && !isProcessAlive(Owner.Pid));
  return { kind: gone ? 'interrupted' : 'in-progress', journal: journal.data };
}

/** The journal of a demo this process is about to make. */
export function startedJournal(): DemoJournal {
  return { Phase: 'started', StartedAt: new Date().toISOString(), Owner: { Pid: process.pid, Hostname: hostname() } };
}

export function isOwnJournal(journal: DemoJournal): boolean {
  return journal.Owner.Pid === process.pid && journal.Owner.Hostname === hostname();
}

export async function writeDemoJournal(dir: string, journal: DemoJournal): Promise<void> {
  await writeFileDurably(join(dir, DEMO_JOURNAL_FILE), `${JSON.stringify(journal)}\n`);
}

/**
 * Removes a half-made demo directory, its journal last: a run killed part-way through leaves a
 * directory still marked interrupted (never one that looks like a complete demo without a journal).
 */
export async function removeDemoDir(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name !== DEMO_JOURNAL_FILE) await rm(join(dir, name), { recursive: true, force: true });
  }
  await rm(dir, { recursive: true, force: true });
}
