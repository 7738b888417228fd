import { describe, expect, it } from 'vitest';
import { ConnectionErrorCode } from '../../../shared/index';
import { CONNECTION_ERROR_HELP, fixRoute, fixWizardForError } from './connection-errors';
import { parseRoute, routeHash } from '../stores/navigation-store';

describe('connection error codes, explained', () => {
  it('explains every AWS code with a fix, and the codes local tokens produce each lead into a wizard', () => {
    for (const code of ConnectionErrorCode.options) {
      const help = CONNECTION_ERROR_HELP[code];
      expect(help.explanation.length, code).toBeGreaterThan(20);
      expect(help.fix.length, code).toBeGreaterThan(20);
      if (!code.includes('SUBNET')) expect(help.wizard, code).not.toBeNull();
    }
  });

  it('sends credential problems to the kmsuser setup and tells the admin to update the store after it', () => {
    for (const code of ['INVALID_CREDENTIALS', 'USER_NOT_FOUND', 'USER_LOCKED_OUT'] as const) {
      expect(CONNECTION_ERROR_HELP[code].wizard).toBe('kmsuser-setup');
      expect(CONNECTION_ERROR_HELP[code].fix).toMatch(/Update password/);
    }
    expect(CONNECTION_ERROR_HELP.NETWORK_ERRORS.wizard).toBe('cluster-checks');
  });

  it('routes each fix to a page of the store’s cluster', () => {
    for (const wizard of ['kmsuser-setup', 'cluster-checks', 'cluster-initialize'] as const) {
      const route = fixRoute(wizard, 'cluster-abcdefghijk');
      expect(parseRoute(routeHash(route))).toEqual(route);
    }
  });

  it('sends an inactive cluster to its initialization', () => {
    expect(fixWizardForError('CloudHsmClusterNotActiveException')).toBe('cluster-initialize');
    expect(fixWizardForError('CloudHsmClusterInvalidConfigurationException')).toBe('cluster-checks');
    expect(fixWizardForError('ValidationException')).toBeNull();
  });
});
