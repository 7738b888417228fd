import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_PREFIX, IPC_PROGRESS_CHANNEL, operations } from '../../shared/contract/operations';

/**
 * The preload exactly as shipped (dist/preload/preload.cjs, one CommonJS file) run in a bare VM
 * context whose `require` knows only `electron`, as in a sandboxed renderer. So this proves the
 * bundle loads there, and that the page gets only the API.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

type Listener = (event: unknown, message: unknown) => void;
type Api = Record<string, Record<string, (request: unknown, options?: { callId?: string; onProgress?: (p: unknown) => void }) => Promise<unknown>>>;
type Events = { on: (name: string, listener: (payload: unknown) => void) => () => void };

interface Harness {
  exposed: Map<string, unknown>;
  invokes: unknown[][];
  listeners: Map<string, Listener[]>;
  required: string[];
  answer: (channel: string, payload: unknown) => Promise<unknown>;
}

let bundle: string;

beforeAll(() => {
  // Built by scripts/build-node.mjs (vitest's globalSetup runs it): the very file the app ships.
  bundle = readFileSync(path.join(root, 'dist', 'preload', 'preload.cjs'), 'utf8');
});

function loadPreload(): Harness {
  const harness: Harness = { exposed: new Map(), invokes: [], listeners: new Map(), required: [], answer: async () => ({ ok: true, value: {} }) };
  const ipcRenderer = {
    invoke: (channel: string, payload: unknown) => {
      harness.invokes.push([channel, payload]);
      return harness.answer(channel, payload);
    },
    on: (channel: string, listener: Listener) => {
      harness.listeners.set(channel, [...(harness.listeners.get(channel) ?? []), listener]);
    },
  };
  const electron = { contextBridge: { exposeInMainWorld: (key: string, value: unknown) => harness.exposed.set(key, value) }, ipcRenderer };
  const sandboxRequire = (name: string): unknown => {
    harness.required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`a sandboxed preload cannot require ${name}`);
  };
  const module = { exports: {} };
  vm.runInNewContext(bundle, { require: sandboxRequire, module, exports: module.exports, console });
  return harness;
}

function push(harness: Harness, message: unknown, channel = IPC_PROGRESS_CHANNEL): void {
  for (const listener of harness.listeners.get(channel) ?? []) listener({ sender: 'ipcRenderer-would-be-here' }, message);
}

describe('the preload bundle', () => {
  it('loads in a sandbox that offers only electron', () => {
    const harness = loadPreload();
    expect(new Set(harness.required)).toEqual(new Set(['electron']));
  });

  it('exposes one object, window.workbench, with the contract’s functions and nothing else', () => {
    const harness = loadPreload();
    expect([...harness.exposed.keys()]).toEqual(['workbench']);
    const api = harness.exposed.get('workbench') as Api;
    // The operations, and the subscription to main's events (contract/events.ts).
    const expected: Record<string, string[]> = { events: ['on'] };
    for (const spec of Object.values(operations)) (expected[spec.domain] ??= []).push(spec.method);
    expect(Object.fromEntries(Object.entries(api).map(([domain, methods]) => [domain, Object.keys(methods).sort()]))).toEqual(
      Object.fromEntries(Object.entries(expected).map(([domain, methods]) => [domain, methods.sort()])),
    );
    for (const methods of Object.values(api)) for (const fn of Object.values(methods)) expect(typeof fn).toBe('function');
  });

  it('invokes the operation’s channel with { callId, request } and returns the Result as data', async () => {
    const harness = loadPreload();
    harness.answer = async () => ({ ok: false, error: { name: 'ValidationException', message: 'bad' } });
    const api = harness.exposed.get('workbench') as Api;
    const result = await api.clusters?.describe?.({ ClusterIds: ['c-1'] }, { callId: 'call-1' });
    expect(harness.invokes).toEqual([[`${IPC_INVOKE_PREFIX}DescribeClusters`, { callId: 'call-1', request: { ClusterIds: ['c-1'] } }]]);
    expect(result).toEqual({ ok: false, error: { name: 'ValidationException', message: 'bad' } });
  });

  it('routes progress to the listener of its call only, without the IPC event, and stops after the call', async () => {
    const harness = loadPreload();
    const seen: unknown[] = [];
    let finish: (value: unknown) => void = () => undefined;
    harness.answer = () => new Promise((resolve) => (finish = resolve));
    const api = harness.exposed.get('workbench') as Api;
    const call = api.clusters?.check?.({ ClusterId: 'c-1' }, { callId: 'call-9', onProgress: (progress) => seen.push(progress) });
    push(harness, { callId: 'call-9', progress: { step: 1 } });
    push(harness, { callId: 'someone-else', progress: { step: 99 } });
    push(harness, 'garbage');
    finish({ ok: true, value: {} });
    await call;
    push(harness, { callId: 'call-9', progress: { step: 2 } });
    expect(seen).toEqual([{ step: 1 }]);
  });

  it('hands main’s events to their subscribers, validated and without the IPC event, until they unsubscribe', () => {
    const harness = loadPreload();
    const events = (harness.exposed.get('workbench') as unknown as { events: Events }).events;
    const seen: unknown[] = [];
    const unsubscribe = events.on('StateChanged', (payload) => seen.push(payload));
    push(harness, { name: 'StateChanged', payload: { Resource: 'clusters', Ids: ['cluster-abcdefghijk'] } }, IPC_EVENT_CHANNEL);
    push(harness, { name: 'StateChanged', payload: { Resource: 'not-a-resource' } }, IPC_EVENT_CHANNEL);
    push(harness, 'garbage', IPC_EVENT_CHANNEL);
    unsubscribe();
    push(harness, { name: 'StateChanged', payload: { Resource: 'clusters' } }, IPC_EVENT_CHANNEL);
    expect(seen).toEqual([{ Resource: 'clusters', Ids: ['cluster-abcdefghijk'] }]);
  });

  it('turns a broken transport into a KMSInternalException result instead of a rejection', async () => {
    const harness = loadPreload();
    harness.answer = () => Promise.reject(new Error('Error invoking remote method: window closed'));
    const api = harness.exposed.get('workbench') as Api;
    await expect(api.system?.describe?.({})).resolves.toMatchObject({ ok: false, error: { name: 'KMSInternalException' } });
  });
});
