import { WorkbenchError } from '../../shared/errors';
import type { AuditStep } from '../core/dispatcher';

/**
 * The steps of one multi-HSM operation: each is journalled (audit log) before it is taken, so a kill leaves
 * a log that says which HSMs were touched, and a failure part-way reports what was done on which HSM.
 */
export class StepJournal {
  private readonly done: string[] = [];

  constructor(private readonly journal: (step: AuditStep) => Promise<void>) {}

  /** Journals the step, runs it, and remembers `summary` once it is done. */
  async run<T>(step: AuditStep, summary: string, work: () => Promise<T>): Promise<T> {
    await this.journal(step);
    const result = await work();
    this.done.push(summary);
    return result;
  }

  /** Notes what was done, so the report of a later failure includes it. */
  note(summary: string): void {
    this.done.push(summary);
  }

  /** The failure, with what was done before it appended; every step is safe to run again. */
  failure(error: unknown): unknown {
    if (!(error instanceof WorkbenchError) || this.done.length === 0) return error;
    return new WorkbenchError(error.name, `${error.message} Done before this failure: ${this.done.join('; ')}. Run the command again to finish: what was made is found and reused.`, {
      code: error.code,
      details: { ...error.details, StepsDone: [...this.done] },
      cause: error,
    });
  }
}
