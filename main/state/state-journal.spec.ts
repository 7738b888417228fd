import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../shared/errors';
import { appendJournal, journalLine, readJournal, startJournal } from './state-journal';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hsmwb-journal-'));
  path = join(dir, 'state.journal');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (seq: number, generation = 2): string => journalLine({ seq, generation, changes: { tables: { keys: [{ put: { KeyId: `k${seq}` } }] } } });

async function refusal(promise: Promise<unknown>): Promise<WorkbenchError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof WorkbenchError)) throw new Error(`expected a WorkbenchError, got ${String(error)}`);
  return error;
}

describe('state journal', () => {
  it('round trip: header, appended entries, and a read from an offset sees only what follows it', async () => {
    await startJournal(path, { generation: 2, foldedThrough: 5 });
    const first = await readJournal(path);
    expect(first).toMatchObject({ header: { generation: 2, foldedThrough: 5 }, entries: [], torn: false });
    const bytes = await appendJournal(path, first?.end ?? 0, entry(6) + entry(7));
    const all = await readJournal(path);
    expect(all?.entries.map((e) => e.seq)).toEqual([6, 7]);
    expect(all?.end).toBe((first?.end ?? 0) + bytes);
    await appendJournal(path, all?.end ?? 0, entry(8));
    const tail = await readJournal(path, { from: all?.end ?? 0, after: 7 });
    expect(tail?.entries).toEqual([{ seq: 8, generation: 2, changes: { tables: { keys: [{ put: { KeyId: 'k8' } }] } } }]);
  });

  it('drops a torn last line, and the next append cuts it off', async () => {
    await startJournal(path, { generation: 2, foldedThrough: 5 });
    await appendFile(path, entry(6));
    const good = (await readFile(path)).length;
    // Longer than the line that replaces it: the tail must be cut, not just overwritten.
    await appendFile(path, journalLine({ seq: 7, generation: 2, changes: { set: { padding: 'x'.repeat(500) } } }).slice(0, 400));
    const read = await readJournal(path);
    expect(read).toMatchObject({ torn: true, end: good });
    expect(read?.entries.map((e) => e.seq)).toEqual([6]);
    await appendJournal(path, good, entry(7));
    expect(await readJournal(path)).toMatchObject({ torn: false, size: good + entry(7).length });
    expect((await readJournal(path))?.entries.map((e) => e.seq)).toEqual([6, 7]);
  });

  it('refuses a damaged line that is not the last, naming the file and the line', async () => {
    await startJournal(path, { generation: 2, foldedThrough: 5 });
    await appendFile(path, entry(6).replace('k6', 'k9') + entry(7));
    const error = await refusal(readJournal(path));
    expect(error.name).toBe('StateFileCorruptException');
    expect(error.message).toContain(`${path} line 2`);
  });

  it('refuses a gap in the sequence numbers and an entry of another generation', async () => {
    await writeFile(path, journalLine({ generation: 2, foldedThrough: 5 }) + entry(6) + entry(8));
    expect((await refusal(readJournal(path))).message).toContain('line 3 has sequence number 8 where 7 belongs');
    await writeFile(path, journalLine({ generation: 2, foldedThrough: 5 }) + entry(6, 3));
    expect((await refusal(readJournal(path))).message).toContain('line 2 belongs to generation 3, not 2');
  });

  it('is absent until started', async () => {
    expect(await readJournal(path)).toBeUndefined();
  });
});
