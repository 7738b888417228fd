import { describe, expect, it } from 'vitest';
import { parseRoute, routeHash, type Route } from './navigation-store';

describe('hash routes', () => {
  it('round-trips every route through the URL hash', () => {
    const routes: Route[] = [{ name: 'clusters' }, { name: 'cluster-new' }, { name: 'cluster-checks', clusterId: 'cluster-abcdefghijk' }, { name: 'audit' }];
    for (const route of routes) expect(parseRoute(routeHash(route))).toEqual(route);
  });

  it('falls back to the clusters list for unknown or malformed hashes', () => {
    expect(parseRoute('')).toEqual({ name: 'clusters' });
    expect(parseRoute('#/clusters/not-a-cluster/checks')).toEqual({ name: 'clusters' });
    expect(parseRoute('#/elsewhere')).toEqual({ name: 'clusters' });
  });
});
