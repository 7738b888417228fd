import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterInfo, CreateClusterRequest } from '../../shared/contract/clusters';
import { WorkbenchError } from '../../shared/errors';
import { createSoftHsmConfig, initSoftHsmToken } from '../softhsm/softhsm-provisioner';

export const DEMO_CLUSTER_NAME = 'demo-cluster';
const DEMO_TOKENS = ['demo-hsm-1', 'demo-hsm-2'];

export interface DemoResult {
  cluster: ClusterInfo;
  dir: string;
  env: Record<string, string>;
  /** Secret, shown once to the admin who ran `demo init`; never stored. */
  soPin: string;
}

/**
 * `demo init`: a SoftHSM2 configuration with two initialised tokens under the state directory and a
 * cluster over them, created through the normal CreateCluster operation (so it is validated and audited).
 */
export async function initDemo(options: {
  stateDir: string;
  kmsuserPassword: string;
  createCluster: (request: CreateClusterRequest) => Promise<{ Cluster: ClusterInfo }>;
}): Promise<DemoResult> {
  const dir = join(options.stateDir, 'demo-softhsm');
  if (existsSync(join(dir, 'softhsm2.conf'))) {
    throw new WorkbenchError('ValidationException', `A demo SoftHSM2 configuration already exists in ${dir}. List clusters with "hsm-workbench cluster list"; to start over, delete that directory and the demo cluster first.`);
  }
  const setup = await createSoftHsmConfig(dir);
  const soPin = randomBytes(9).toString('base64url');
  const tokens = [];
  for (const label of DEMO_TOKENS) tokens.push(await initSoftHsmToken(setup, { label, soPin, userPin: options.kmsuserPassword }));
  const { Cluster } = await options.createCluster({
    ClusterName: DEMO_CLUSTER_NAME,
    ModulePath: setup.modulePath,
    ModuleEnvironment: setup.env,
    LoginFormat: 'password',
    Hsms: tokens.map((t) => ({ TokenSerial: t.serial })),
  });
  return { cluster: Cluster, dir, env: setup.env, soPin };
}
