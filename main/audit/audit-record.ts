/** One CloudTrail-shaped line of the audit log, with its place in the hash chain. */
export interface AuditRecord {
  eventVersion: '1.08';
  eventTime: string;
  eventID: string;
  eventName: string;
  eventSource: 'hsm-workbench.local';
  /** AwsServiceEvent: something the workbench did on its own (a due deletion), not an admin's call. */
  eventType: 'AwsApiCall' | 'AwsServiceEvent';
  awsRegion: string;
  sourceIPAddress: 'localhost' | 'hsm-workbench internal';
  userAgent: string;
  userIdentity: AuditUserIdentity;
  requestParameters: unknown;
  /** null when the operation was refused or failed. */
  responseElements: unknown;
  additionalEventData?: Record<string, unknown>;
  errorCode?: string;
  errorMessage?: string;
  readOnly: boolean;
  requestID: string;
  /** 1, 2, … without gaps. */
  sequenceNumber: number;
  /** `hash` of the record before; GENESIS_HASH for the first. */
  previousHash: string;
  /** SHA-256 (hex) of the canonical JSON of this record without `hash`. */
  hash: string;
}

export interface AuditUserIdentity {
  type: 'LocalUser';
  userName: string;
  /** -1 where the OS has no numeric uid (Windows). */
  uid: number;
  hostname: string;
  /** Set on AwsServiceEvent records: the workbench acted on its own, in a process this user ran. */
  invokedBy?: 'hsm-workbench';
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Enough shape to chain onto: the full check of each field is the verifier's job. */
export function isChainableRecord(value: unknown): value is AuditRecord {
  if (value === null || typeof value !== 'object') return false;
  const r = value as Partial<AuditRecord>;
  return Number.isInteger(r.sequenceNumber) && (r.sequenceNumber ?? 0) >= 1 && typeof r.hash === 'string' && HEX64.test(r.hash);
}
