import type { z } from 'zod';
import type { StateResource } from '../../shared/contract/events';
import type { ServiceEvent } from '../core/dispatcher';
import type { Logger } from '../core/logger';
import type { HsmHostPool } from '../hsm/hsm-host';
import type { ConnectionManager } from '../key-stores/connection-manager';
import type { StateStore } from '../state/state-store';
import type { KmsPartition } from './arn';

/** What the CMK, alias, tag and crypto services need from the composition root (main/core/workbench-core.ts). */
export interface KeysDeps {
  readonly state: StateStore;
  readonly hosts: HsmHostPool;
  /** Logged-in kmsuser sessions of each CONNECTED store's members (held by this process, or made on demand). */
  readonly connections: ConnectionManager;
  readonly partition: KmsPartition;
  /** The time now. Injectable so tests control scheduled deletion. */
  readonly clock: () => Date;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Says StateChanged once the state file holds a change. */
  changed(resource: z.infer<typeof StateResource>, ids: readonly string[]): void;
  /** Audits an event the workbench started itself (a due deletion) as a CloudTrail AwsServiceEvent. */
  recordServiceEvent(event: ServiceEvent): Promise<void>;
}
