import { defineStore } from 'pinia';
import { computed, ref, type ComputedRef } from 'vue';
import { CLUSTER_ID_PATTERN } from '../../../shared/index';

/** Where the admin is. Kept in the URL hash so Back/Forward work and a reload lands on the same page. */
export type Route =
  | { name: 'clusters' }
  | { name: 'cluster-new' }
  | { name: 'cluster-checks'; clusterId: string }
  | { name: 'key-stores' }
  | { name: 'keys' }
  | { name: 'inspector' }
  | { name: 'audit' };

export type Section = 'clusters' | 'key-stores' | 'keys' | 'inspector' | 'audit';

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [first, second, third] = parts;
  if (first === 'clusters') {
    if (second === 'new') return { name: 'cluster-new' };
    if (second !== undefined && CLUSTER_ID_PATTERN.test(second) && third === 'checks') return { name: 'cluster-checks', clusterId: second };
    return { name: 'clusters' };
  }
  if (first === 'key-stores' || first === 'keys' || first === 'inspector' || first === 'audit') return { name: first };
  return { name: 'clusters' };
}

export function routeHash(route: Route): string {
  switch (route.name) {
    case 'cluster-new':
      return '#/clusters/new';
    case 'cluster-checks':
      return `#/clusters/${route.clusterId}/checks`;
    default:
      return `#/${route.name}`;
  }
}

export const useNavigationStore = defineStore('navigation', () => {
  const route = ref<Route>(parseRoute(window.location.hash));
  window.addEventListener('hashchange', () => {
    route.value = parseRoute(window.location.hash);
  });

  const section: ComputedRef<Section> = computed(() => {
    const name = route.value.name;
    return name === 'cluster-new' || name === 'cluster-checks' ? 'clusters' : name;
  });

  function go(next: Route): void {
    const hash = routeHash(next);
    route.value = next;
    if (window.location.hash !== hash) window.location.hash = hash;
  }

  return { route, section, go };
});
