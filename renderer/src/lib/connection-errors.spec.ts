import { describe, expect, it } from 'vitest';
import { ConnectionErrorCode } from '../../../shared/index';
import { parseRoute, routeHash } from '../stores/navigation-store';
import { connectionErrorHelp, fixRoute, fixWizardForError, type FixWizard } from './connection-errors';

describe('connection error codes, explained in the GUI', () => {
  it('gives every AWS code a short summary, the shared explanation and its fix', () => {
    for (const code of ConnectionErrorCode.options) {
      const help = connectionErrorHelp(code);
      expect(help.summary.length, code).toBeGreaterThan(5);
      expect(help.explanation.length, code).toBeGreaterThan(20);
      expect(help.fix.length, code).toBeGreaterThan(5);
    }
  });

  it('sends credential problems to the kmsuser setup and the others that real tokens produce to the checks', () => {
    for (const code of ['INVALID_CREDENTIALS', 'USER_NOT_FOUND', 'USER_LOCKED_OUT'] as const) expect(connectionErrorHelp(code).wizard).toBe('kmsuser-setup');
    for (const code of ['USER_LOGGED_IN', 'INSUFFICIENT_CLOUDHSM_HSMS', 'NETWORK_ERRORS'] as const) expect(connectionErrorHelp(code).wizard).toBe('cluster-checks');
  });

  it('routes each fix to the page of the store’s cluster that does it', () => {
    const wizards: FixWizard[] = ['kmsuser-setup', 'cluster-checks', 'cluster-initialization'];
    const routes = wizards.map((wizard) => fixRoute(wizard, 'cluster-abcdefghijk'));
    expect(routes.map((r) => r.name)).toEqual(['kmsuser-setup', 'cluster-checks', 'cluster-initialize']);
    for (const route of routes) expect(parseRoute(routeHash(route))).toEqual(route);
  });

  it('sends an inactive cluster to its initialization', () => {
    expect(fixWizardForError('CloudHsmClusterNotActiveException')).toBe('cluster-initialization');
    expect(fixWizardForError('CloudHsmClusterInvalidConfigurationException')).toBe('cluster-checks');
    expect(fixWizardForError('ValidationException')).toBeNull();
  });
});
