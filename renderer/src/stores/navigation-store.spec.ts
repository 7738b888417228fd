import { describe, expect, it } from 'vitest';
import { parseRoute, routeHash, sectionOf, type Route } from './navigation-store';

const CLUSTER_ID = 'cluster-abcdefghijk';
const STORE_ID = 'cks-0123456789abcdef0';

describe('hash routes', () => {
  it('round-trips every route through the URL hash', () => {
    const routes: Route[] = [
      { name: 'clusters' },
      { name: 'cluster-new' },
      { name: 'cluster-checks', clusterId: CLUSTER_ID },
      { name: 'cluster-detail', clusterId: CLUSTER_ID },
      { name: 'cluster-initialize', clusterId: CLUSTER_ID },
      { name: 'kmsuser-setup', clusterId: CLUSTER_ID },
      { name: 'key-stores' },
      { name: 'key-store-connect' },
      { name: 'key-store-connect', customKeyStoreId: STORE_ID },
      { name: 'keys' },
      { name: 'key-new' },
      { name: 'key-detail', keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' },
      { name: 'audit' },
    ];
    for (const route of routes) expect(parseRoute(routeHash(route))).toEqual(route);
  });

  it('falls back to the clusters list for unknown or malformed hashes', () => {
    expect(parseRoute('')).toEqual({ name: 'clusters' });
    expect(parseRoute('#/clusters/not-a-cluster/checks')).toEqual({ name: 'clusters' });
    expect(parseRoute(`#/clusters/${CLUSTER_ID}/elsewhere`)).toEqual({ name: 'clusters' });
    expect(parseRoute(`#/clusters/${CLUSTER_ID}/checks/more`)).toEqual({ name: 'clusters' });
    expect(parseRoute('#/clusters/new/more')).toEqual({ name: 'clusters' });
    expect(parseRoute('#/elsewhere')).toEqual({ name: 'clusters' });
    expect(parseRoute('#/keys/not-a-key-id')).toEqual({ name: 'keys' });
    expect(parseRoute('#/keys/new/more')).toEqual({ name: 'keys' });
  });

  it('falls back to the key-store list for a malformed key-store hash', () => {
    expect(parseRoute('#/key-stores/cks-123/connect')).toEqual({ name: 'key-stores' });
    expect(parseRoute(`#/key-stores/${STORE_ID}`)).toEqual({ name: 'key-stores' });
    expect(parseRoute('#/key-stores/connect/more')).toEqual({ name: 'key-stores' });
  });

  it('keeps the wizards of a section highlighted under their section', () => {
    expect(sectionOf({ name: 'kmsuser-setup', clusterId: CLUSTER_ID })).toBe('clusters');
    expect(sectionOf({ name: 'cluster-initialize', clusterId: CLUSTER_ID })).toBe('clusters');
    expect(sectionOf({ name: 'key-store-connect' })).toBe('key-stores');
    expect(sectionOf({ name: 'audit' })).toBe('audit');
  });
});
