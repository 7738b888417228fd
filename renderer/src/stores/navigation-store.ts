import { defineStore } from 'pinia';
import { computed, ref, type ComputedRef } from 'vue';
import { CLUSTER_ID_PATTERN } from '../../../shared/index';

/** A key store's id as AWS shapes it: `cks-` and 17 hex digits. */
const CUSTOM_KEY_STORE_ID_PATTERN = /^cks-[0-9a-f]{17}$/;

/** Where the admin is. Kept in the URL hash so Back/Forward work and a reload lands on the same page. */
export type Route =
  | { name: 'clusters' }
  | { name: 'cluster-new' }
  | { name: 'cluster-checks'; clusterId: string }
  | { name: 'cluster-detail'; clusterId: string }
  | { name: 'cluster-initialize'; clusterId: string }
  | { name: 'kmsuser-setup'; clusterId: string }
  | { name: 'key-stores' }
  /** The connection wizard: for a store picked from the table, or starting at "pick or create". */
  | { name: 'key-store-connect'; customKeyStoreId?: string }
  | { name: 'keys' }
  /** The CMK creation wizard. */
  | { name: 'key-new' }
  | { name: 'key-detail'; keyId: string }
  | { name: 'inspector' }
  | { name: 'audit' };

export type Section = 'clusters' | 'key-stores' | 'keys' | 'inspector' | 'audit';

/** A CMK's key id as AWS shapes it: a UUID v4. */
const KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function keyRoute(second: string | undefined, third: string | undefined): Route {
  if (second === undefined || third !== undefined) return { name: 'keys' };
  if (second === 'new') return { name: 'key-new' };
  return KEY_ID_PATTERN.test(second) ? { name: 'key-detail', keyId: second } : { name: 'keys' };
}

/** The pages about one cluster, by the last part of their hash (`#/clusters/<id>/<part>`). */
const CLUSTER_PAGES = { checks: 'cluster-checks', initialize: 'cluster-initialize', kmsuser: 'kmsuser-setup' } as const;
type ClusterPage = (typeof CLUSTER_PAGES)[keyof typeof CLUSTER_PAGES];

function clusterRoute(clusterId: string, part: string | undefined): Route {
  if (!CLUSTER_ID_PATTERN.test(clusterId)) return { name: 'clusters' };
  if (part === undefined) return { name: 'cluster-detail', clusterId };
  const page: ClusterPage | undefined = Object.hasOwn(CLUSTER_PAGES, part) ? CLUSTER_PAGES[part as keyof typeof CLUSTER_PAGES] : undefined;
  return page === undefined ? { name: 'clusters' } : { name: page, clusterId };
}

function keyStoreRoute(second: string | undefined, third: string | undefined): Route {
  if (second === 'connect' && third === undefined) return { name: 'key-store-connect' };
  if (second !== undefined && CUSTOM_KEY_STORE_ID_PATTERN.test(second) && third === 'connect') return { name: 'key-store-connect', customKeyStoreId: second };
  return { name: 'key-stores' };
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [first, second, third] = parts;
  // Deeper than any page: the section's list, not a guess at which page was meant.
  const tooDeep = parts.length > 3;
  if (first === 'clusters') {
    if (second === undefined || tooDeep) return { name: 'clusters' };
    if (second === 'new') return third === undefined ? { name: 'cluster-new' } : { name: 'clusters' };
    return clusterRoute(second, third);
  }
  if (first === 'key-stores') return tooDeep ? { name: 'key-stores' } : keyStoreRoute(second, third);
  if (first === 'keys') return keyRoute(second, third);
  if (first === 'inspector' || first === 'audit') return { name: first };
  return { name: 'clusters' };
}

export function routeHash(route: Route): string {
  switch (route.name) {
    case 'cluster-new':
      return '#/clusters/new';
    case 'cluster-detail':
      return `#/clusters/${route.clusterId}`;
    case 'cluster-checks':
      return `#/clusters/${route.clusterId}/checks`;
    case 'cluster-initialize':
      return `#/clusters/${route.clusterId}/initialize`;
    case 'kmsuser-setup':
      return `#/clusters/${route.clusterId}/kmsuser`;
    case 'key-store-connect':
      return route.customKeyStoreId === undefined ? '#/key-stores/connect' : `#/key-stores/${route.customKeyStoreId}/connect`;
    case 'key-new':
      return '#/keys/new';
    case 'key-detail':
      return `#/keys/${route.keyId}`;
    default:
      return `#/${route.name}`;
  }
}

/** The main-navigation section a route belongs to. */
export function sectionOf(route: Route): Section {
  switch (route.name) {
    case 'cluster-new':
    case 'cluster-checks':
    case 'cluster-detail':
    case 'cluster-initialize':
    case 'kmsuser-setup':
      return 'clusters';
    case 'key-store-connect':
      return 'key-stores';
    case 'key-new':
    case 'key-detail':
      return 'keys';
    default:
      return route.name;
  }
}

export const useNavigationStore = defineStore('navigation', () => {
  const route = ref<Route>(parseRoute(window.location.hash));
  window.addEventListener('hashchange', () => {
    route.value = parseRoute(window.location.hash);
  });

  const section: ComputedRef<Section> = computed(() => sectionOf(route.value));

  function go(next: Route): void {
    const hash = routeHash(next);
    route.value = next;
    if (window.location.hash !== hash) window.location.hash = hash;
  }

  return { route, section, go };
});
