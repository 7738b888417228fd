/** Local date and time, to the minute: what an admin compares with their own notes. */
export function formatTimestamp(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}

/** The library file name, which is what tells modules apart in a narrow column. */
export function moduleFileName(modulePath: string): string {
  return modulePath.split(/[\\/]/).pop() ?? modulePath;
}

/** Local date only ("Mar 04"): where a row has room for the day and the full timestamp is in its title. */
export function formatDay(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString(undefined, { month: 'short', day: '2-digit' });
}
