import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { ClusterInfo } from '../../shared/contract/clusters';
import { openStateStore } from '../../main/state/state-store';
import { cli, type CliRun } from '../fixtures/cli';
import { demoTokens, peerCertificates, peerLogin, type DemoInitOutput } from '../fixtures/demo';

/** A demo init that exited 0 and printed a demo that works (see expectDemoWorks). */
export async function expectWorkingDemo(stateDir: string, run: CliRun, options: { peerLogin?: boolean } = {}): Promise<DemoInitOutput> {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return expectDemoWorks(stateDir, run.stdout, options);
}

/**
 * What `--output json demo init` printed is the demo in the state directory: one demo cluster recorded over
 * the two tokens softhsm2-util sees, ACTIVE as `cluster describe` tells it, with the demo CA's certificate at
 * the printed path and the cluster and trust anchor certificates on both tokens as pkcs11-tool lists them;
 * and (unless `peerLogin` is false) kmsuser's printed password opens both with pkcs11-tool.
 */
export async function expectDemoWorks(stateDir: string, stdout: string, options: { peerLogin?: boolean } = {}): Promise<DemoInitOutput> {
  const out = JSON.parse(stdout) as DemoInitOutput;
  const { clusters } = await (await openStateStore({ stateDir, program: 'test' })).read();
  expect(clusters.filter((c) => c.ClusterName === 'demo-cluster').map((c) => c.ClusterId)).toEqual([out.Cluster.ClusterId]);
  const tokens = await demoTokens(stateDir);
  expect(tokens.map((t) => t.label).sort()).toEqual(['demo-hsm-1', 'demo-hsm-2']);
  expect(out.Cluster.Hsms.map((h) => h.TokenSerial).sort()).toEqual(tokens.map((t) => t.serial).sort());
  const described = await cli(stateDir, ['--output', 'json', 'cluster', 'describe', out.Cluster.ClusterId]);
  expect(described.code).toBe(0);
  const { Cluster } = JSON.parse(described.stdout) as { Cluster: ClusterInfo };
  expect(Cluster.State).toBe('ACTIVE');
  expect(Cluster.Hsms.map((h) => h.Trust.Status)).toEqual(['COMPLETE', 'COMPLETE']);
  expect(Cluster.Certificates.DemoCa).toBe(true);
  expect((await readFile(out.TrustAnchorCertificatePath, 'utf8')).trim()).toBe(Cluster.Certificates.TrustAnchorCertificate?.trim());
  for (const token of tokens) {
    const listed = await peerCertificates(stateDir, token.label);
    expect(listed).toContain(`hsm-workbench cluster certificate ${out.Cluster.ClusterId}`);
    expect(listed).toContain(`hsm-workbench trust anchor ${out.Cluster.ClusterId}`);
  }
  if (options.peerLogin !== false) {
    const password = out.DemoCredentials.KmsuserPassword ?? '';
    for (const token of tokens) expect(await peerLogin(stateDir, token.label, password)).toBe(true);
  }
  return out;
}
