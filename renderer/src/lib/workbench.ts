import type { ErrorInfo, WorkbenchApi } from '../../../shared/index';

/** The only door to the app: the API object the preload (or the E2E bridge) put on window. */
export function workbench(): WorkbenchApi {
  return window.workbench;
}

/** Field-level problems a ValidationException carries in `details.issues`. */
export function validationIssues(error: ErrorInfo | null): Array<{ path: string; message: string }> {
  const issues = error?.details?.['issues'];
  if (!Array.isArray(issues)) return [];
  return issues.flatMap((issue: unknown) => {
    if (issue === null || typeof issue !== 'object') return [];
    const { path, message } = issue as { path?: unknown; message?: unknown };
    return typeof message === 'string' ? [{ path: typeof path === 'string' ? path : '', message }] : [];
  });
}
