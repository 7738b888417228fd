import { describe, expect, it } from 'vitest';
import { clusterInfo } from '../../tests/fixtures/records';
import { formatClusters, render } from './output';
import { textTable } from './text-table';

describe('text tables', () => {
  it('draws boxed, aligned columns with a rule between rows', () => {
    expect(textTable(['Id', 'Name'], [['1', 'alpha'], ['22', 'b']])).toBe(
      ['┌────┬───────┐', '│ Id │ Name  │', '├────┼───────┤', '│ 1  │ alpha │', '├────┼───────┤', '│ 22 │ b     │', '└────┴───────┘'].join('\n'),
    );
  });

  it('gives a multi-line cell its lines and aligns wide characters by their columns', () => {
    expect(textTable(['K', 'V'], [['env', 'A=1\nLONGER=2'], ['鍵', 'x']])).toBe(
      ['┌─────┬──────────┐', '│ K   │ V        │', '├─────┼──────────┤', '│ env │ A=1      │', '│     │ LONGER=2 │', '├─────┼──────────┤', '│ 鍵  │ x        │', '└─────┴──────────┘'].join('\n'),
    );
  });

  it('lists 10,000 cluster records, one line each, in order', () => {
    const clusters = Array.from({ length: 10_000 }, (_, i) => clusterInfo(`cluster-${i}`));
    const lines = render({ Clusters: clusters }, 'table', (safe) => formatClusters(safe.Clusters)).split('\n');
    // Top rule, head, then a rule and a line per record, and the bottom rule.
    expect(lines).toHaveLength(3 + 2 * clusters.length);
    const widths = new Set(lines.map((l) => l.length));
    expect(widths.size).toBe(1);
    const ids = lines.filter((l) => l.startsWith('│ cluster-')).map((l) => l.split('│')[1]?.trim());
    expect(ids).toEqual(clusters.map((c) => c.ClusterId));
  });
});
