import { InvalidArgumentError } from 'commander';
import type { CliPaginator, OperationSpec } from '../../shared/contract/operations';
import type { KmsSession } from './kms-commands';

/**
 * The AWS CLI's client-side paging of a paginated list (botocore's PageIterator): every page is followed and merged,
 * `--max-items` stops after that many items and prints `NextToken`, which `--starting-token` resumes from.
 * The token is botocore's: base64 of JSON with the operation's input token (`{"Marker": …}`) and, when the last page
 * was cut inside, `boto_truncate_amount`, how many items of the page that marker starts have been printed already.
 */

/** Where a `--starting-token` resumes: the marker to ask with (none: the first page) and how many of that page to skip. */
export interface StartingToken {
  readonly marker: string | undefined;
  readonly skip: number;
}

const TRUNCATE = 'boto_truncate_amount';

function encodeToken(inputToken: string, marker: string | undefined, skip: number): string {
  const token = skip === 0 ? { [inputToken]: marker ?? null } : { [inputToken]: marker ?? null, [TRUNCATE]: skip };
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64');
}

/** A `--starting-token` as a previous NextToken of this command printed it; a usage error for anything else. */
export function parseStartingToken(inputToken: string): (text: string) => StartingToken {
  return (text) => {
    const refused = new InvalidArgumentError('Expected the NextToken a previous call of this command printed (with --max-items).');
    let token: unknown;
    try {
      token = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as unknown;
    } catch {
      throw refused;
    }
    if (typeof token !== 'object' || token === null || Array.isArray(token)) throw refused;
    const { [inputToken]: marker, [TRUNCATE]: skip = 0, ...rest } = token as Record<string, unknown>;
    const markerOk = typeof marker === 'string' || (marker === null && skip !== 0);
    if (!markerOk || typeof skip !== 'number' || !Number.isSafeInteger(skip) || skip < 0 || Object.keys(rest).length > 0) throw refused;
    return { marker: marker ?? undefined, skip };
  };
}

/** A --max-items or --page-size: a whole number of at least 1. */
export function positiveCount(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('Expected a whole number of at least 1.');
  return n;
}

export interface PageOptions {
  readonly start?: StartingToken;
  readonly maxItems?: number;
}

/** Every page of a paginated list, merged: `{ [resultKey]: items }`, and `NextToken` when --max-items stopped before the end. */
export async function allPages(session: KmsSession, spec: OperationSpec, paginator: CliPaginator, request: Record<string, unknown>, options: PageOptions = {}): Promise<Record<string, unknown>> {
  const items: unknown[] = [];
  let marker = options.start?.marker ?? (typeof request[paginator.inputToken] === 'string' ? (request[paginator.inputToken] as string) : undefined);
  let skip = options.start?.skip ?? 0;
  const { maxItems } = options;
  for (;;) {
    const response = (await session.invoke(spec.name, marker === undefined ? request : { ...request, [paginator.inputToken]: marker })) as Record<string, unknown>;
    const found = response[paginator.resultKey];
    const page = Array.isArray(found) ? (found as unknown[]).slice(skip) : [];
    const next = response[paginator.outputToken];
    const more = response[paginator.moreResults] === true && typeof next === 'string';
    if (maxItems !== undefined && items.length + page.length >= maxItems) {
      const taken = maxItems - items.length;
      items.push(...page.slice(0, taken));
      // Cut inside the page: resume at the same marker, past what was printed; at its end: at the next marker.
      const token = taken < page.length ? encodeToken(paginator.inputToken, marker, skip + taken) : more ? encodeToken(paginator.inputToken, next, 0) : undefined;
      return { [paginator.resultKey]: items, ...(token === undefined ? {} : { NextToken: token }) };
    }
    items.push(...page);
    if (!more) return { [paginator.resultKey]: items };
    // A token that does not move would page forever.
    if (next === marker) session.fail({ name: 'KMSInternalException', message: `${spec.name} returned the ${paginator.outputToken} it was given (${next}): the list cannot be followed.` });
    marker = next;
    skip = 0;
  }
}
