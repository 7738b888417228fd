import { describe, expect, expectTypeOf, it } from 'vitest';
import { createWorkbenchApi, type WorkbenchApi } from '../api';
import { createPushRouter } from '../push-router';
import { EVENT_NAMES, events, type EventPayloadOf } from './events';

function apiOverRouter(): { api: WorkbenchApi; router: ReturnType<typeof createPushRouter> } {
  const router = createPushRouter();
  const api = createWorkbenchApi({ invoke: async () => ({ ok: true, value: {} }), onProgress: router.onProgress, onEvent: router.onEvent });
  return { api, router };
}

describe('main → renderer events', () => {
  it('are declared once, each under its own name, with the payload type derived from its schema', () => {
    for (const name of EVENT_NAMES) expect(events[name].name).toBe(name);
    expectTypeOf<EventPayloadOf<'StateChanged'>>().toEqualTypeOf<{ Resource: 'clusters' | 'customKeyStores' | 'keys' | 'aliases'; Ids?: string[] | undefined }>();
    expectTypeOf<Parameters<WorkbenchApi['events']['on']>[0]>().toEqualTypeOf<'StateChanged'>();
  });

  it('reach a listener of their name with the payload validated, until it unsubscribes', () => {
    const { api, router } = apiOverRouter();
    const seen: unknown[] = [];
    const unsubscribe = api.events.on('StateChanged', (payload) => seen.push(payload));
    router.deliverEvent('StateChanged', { Resource: 'clusters', Ids: ['cluster-abcdefghijk'] });
    router.deliverEvent('SomethingElse', { Resource: 'clusters' });
    unsubscribe();
    router.deliverEvent('StateChanged', { Resource: 'clusters' });
    expect(seen).toEqual([{ Resource: 'clusters', Ids: ['cluster-abcdefghijk'] }]);
  });

  it('drop a payload that breaks the contract instead of handing it to the store', () => {
    const { api, router } = apiOverRouter();
    const seen: unknown[] = [];
    api.events.on('StateChanged', (payload) => seen.push(payload));
    for (const payload of [undefined, 'clusters', { Resource: 'grants' }, { Resource: 'clusters', Ids: 'cluster-abcdefghijk' }]) router.deliverEvent('StateChanged', payload);
    expect(seen).toEqual([]);
  });

  it('keep calling the other listeners when one throws', () => {
    const { api, router } = apiOverRouter();
    const seen: string[] = [];
    api.events.on('StateChanged', () => {
      throw new Error('a broken page listener');
    });
    api.events.on('StateChanged', ({ Resource }) => seen.push(Resource));
    router.deliverEvent('StateChanged', { Resource: 'clusters' });
    expect(seen).toEqual(['clusters']);
  });

  it('refuse a subscription to an event nobody declared, by name', () => {
    const { api } = apiOverRouter();
    const on = api.events.on as (name: string, listener: () => void) => () => void;
    expect(() => on('ClustersChanged', () => undefined)).toThrow(expect.objectContaining({ name: 'ValidationException', message: expect.stringContaining('"ClustersChanged"') }));
  });

  it('never fire over a transport that carries no pushes', () => {
    const api = createWorkbenchApi({ invoke: async () => ({ ok: true, value: {} }), onProgress: () => () => undefined });
    const unsubscribe = api.events.on('StateChanged', () => undefined);
    expect(typeof unsubscribe).toBe('function');
    unsubscribe();
  });
});
