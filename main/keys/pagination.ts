import { WorkbenchError } from '../../shared/errors';

/*
 * AWS's Limit/Marker paging over records listed in the order of a unique name (a key id, an alias name, a
 * tag key). Markers are opaque to callers but say "after this name", so a page boundary survives records
 * added or removed between calls (a new one lands on whichever side its name falls).
 */

/** One page as AWS answers it: the items, and NextMarker with Truncated when more follow. */
export interface Page<T> {
  page: T[];
  NextMarker?: string;
  Truncated: boolean;
}

const encodeMarker = (lastName: string): string => Buffer.from(`after:${lastName}`, 'utf8').toString('base64url');

/** The name a marker continues after; InvalidMarkerException for one no previous call returned (`name` says what a real one holds). */
export function markerAfter(marker: string | undefined, operation: string, name: RegExp): string | undefined {
  if (marker === undefined) return undefined;
  const text = /^[A-Za-z0-9_-]+$/.test(marker) ? Buffer.from(marker, 'base64url').toString('utf8') : '';
  const after = text.startsWith('after:') ? text.slice('after:'.length) : undefined;
  if (after === undefined || !name.test(after)) throw new WorkbenchError('InvalidMarkerException', `The Marker is not one a previous ${operation} returned. Start again without it.`);
  return after;
}

/** Sorts by name in code-unit order, the order pageAfter's search assumes. */
export const byName =
  <T>(nameOf: (item: T) => string) =>
  (a: T, b: T): number => {
    const x = nameOf(a);
    const y = nameOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };

/** One page of `items` (sorted with byName(nameOf)) after the marker's name. */
export function pageAfter<T>(items: readonly T[], nameOf: (item: T) => string, after: string | undefined, limit: number): Page<T> {
  const start = after === undefined ? 0 : firstAfter(items, nameOf, after);
  const chosen = items.slice(start, start + limit);
  const last = chosen.at(-1);
  const truncated = start + limit < items.length && last !== undefined;
  return { page: chosen, ...(truncated ? { NextMarker: encodeMarker(nameOf(last)) } : {}), Truncated: truncated };
}

/** Binary search: the index of the first item whose name sorts after `name`. */
function firstAfter<T>(items: readonly T[], nameOf: (item: T) => string, name: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const item = items[mid];
    if (item !== undefined && nameOf(item) <= name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
