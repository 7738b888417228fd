import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterInfo } from '../../shared/contract/clusters';
import { WorkbenchError } from '../../shared/errors';
import type { ClusterService } from '../clusters/cluster-service';
import type { HsmHost, HsmHostPool } from '../hsm/hsm-host';
import { createSoftHsmConfig } from '../softhsm/softhsm-config';

export const DEMO_CLUSTER_NAME = 'demo-cluster';
const DEMO_TOKEN_LABELS = ['demo-hsm-1', 'demo-hsm-2'];

export interface DemoCluster {
  cluster: ClusterInfo;
  dir: string;
  /** Secrets, returned once to whoever asked; never stored. */
  kmsuserPassword: string;
  soPin: string;
}

/**
 * A throwaway SoftHSM2 configuration with two initialised tokens under the state directory, and a
 * cluster over them. The tokens are initialised through the HSM host (C_InitToken, then C_InitPIN as
 * the SO), so the PINs never appear on a command line; the cluster is created by the normal service.
 */
export async function createDemoCluster(deps: { stateDir: string; hosts: HsmHostPool; clusters: ClusterService }, kmsuserPassword?: string): Promise<DemoCluster> {
  const dir = join(deps.stateDir, 'demo-softhsm');
  if (existsSync(join(dir, 'softhsm2.conf'))) {
    throw new WorkbenchError(
      'ValidationException',
      `A demo SoftHSM2 configuration already exists in ${dir}. List clusters with "hsm-workbench cluster list"; to start over, delete the demo cluster and that directory first.`,
    );
  }
  const setup = await createSoftHsmConfig(dir);
  const password = kmsuserPassword ?? randomBytes(12).toString('base64url');
  const soPin = randomBytes(9).toString('base64url');
  const host = deps.hosts.get({ ModulePath: setup.modulePath, ModuleEnvironment: setup.env });
  const serials: string[] = [];
  for (const label of DEMO_TOKEN_LABELS) serials.push(await initDemoToken(host, label, soPin, password));
  const cluster = await deps.clusters.create({
    ClusterName: DEMO_CLUSTER_NAME,
    ModulePath: setup.modulePath,
    ModuleEnvironment: setup.env,
    LoginFormat: 'password',
    Hsms: serials.map((TokenSerial) => ({ TokenSerial })),
  });
  return { cluster, dir, kmsuserPassword: password, soPin };
}

/** Initialises the next free SoftHSM slot as `label` with kmsuser's PIN set; returns the token's serial. */
async function initDemoToken(host: HsmHost, label: string, soPin: string, userPin: string): Promise<string> {
  const free = (await host.listSlots()).find((s) => s.Token !== null && !s.Token.Flags.includes('CKF_TOKEN_INITIALIZED'));
  if (!free) throw new WorkbenchError('TokenNotFoundException', 'SoftHSM2 offers no free slot for a demo token.');
  await host.initToken(free.SlotId, soPin, label);
  // SoftHSM moves an initialised token to a slot id derived from its serial: find it again by label.
  const slot = (await host.listSlots()).find((s) => s.Token?.Label === label);
  if (!slot?.Token) throw new WorkbenchError('TokenNotFoundException', `Demo token "${label}" was initialised but is not listed.`);
  await host.initUserPin(slot.SlotId, soPin, userPin);
  return slot.Token.SerialNumber;
}
