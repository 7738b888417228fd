import { describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../../shared/contract/events';
import { createEventHub } from './event-hub';
import type { Logger } from './logger';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = (): void => undefined;
  return { warnings, debug: ignore, info: ignore, error: ignore, warn: (message) => void warnings.push(message) };
}

describe('the core’s event hub', () => {
  it('hands each event to every subscriber in order, and to none after it unsubscribes', () => {
    const hub = createEventHub(recordingLogger());
    const first: WorkbenchEvent[] = [];
    const second: WorkbenchEvent[] = [];
    const stopFirst = hub.subscribe((event) => first.push(event));
    hub.subscribe((event) => second.push(event));
    hub.emit('StateChanged', { Resource: 'clusters', Ids: ['cluster-abcdefghijk'] });
    stopFirst();
    hub.emit('StateChanged', { Resource: 'clusters' });
    expect(first).toEqual([{ name: 'StateChanged', payload: { Resource: 'clusters', Ids: ['cluster-abcdefghijk'] } }]);
    expect(second.map((e) => e.payload)).toEqual([{ Resource: 'clusters', Ids: ['cluster-abcdefghijk'] }, { Resource: 'clusters' }]);
  });

  it('logs a listener that throws and still reaches the others: the change it reports has happened', () => {
    const logger = recordingLogger();
    const hub = createEventHub(logger);
    const reached: string[] = [];
    hub.subscribe(() => {
      throw new Error('the window went away mid-send');
    });
    hub.subscribe((event) => reached.push(event.name));
    expect(() => hub.emit('StateChanged', { Resource: 'clusters' })).not.toThrow();
    expect(reached).toEqual(['StateChanged']);
    expect(logger.warnings).toEqual(['a workbench event listener failed']);
  });
});
