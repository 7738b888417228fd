import type { ClusterInfo } from '../../../shared/contract/clusters';
import type { KeyStoreConnectionInfo } from '../../../shared/contract/key-stores';
import { MAX_TAGS, Tags, type CreateKeyProgress, type Tag } from '../../../shared/contract/keys';

/** CreateKey's cluster rule: the key is made on one active HSM and proven on a second, so fewer than two cannot hold it. */
export const MIN_ACTIVE_HSMS = 2;

/** One member as the creation pre-flight judges it: does it count towards the rule, and why (not). */
export interface MemberReadiness {
  HsmId: string;
  TokenLabel: string | null;
  counts: boolean;
  reason: string;
}

/**
 * The members CreateKey would use, judged as main's CreateKey judges them (main/keys/key-creation.ts notActive): a
 * kmsuser session, held here or opened with the stored password (no failure recorded), and a complete trust mesh
 * (its member key, trusted by every other member, the cluster certificates on its token).
 */
export function memberReadiness(connection: KeyStoreConnectionInfo, cluster: ClusterInfo | undefined): MemberReadiness[] {
  return connection.Hsms.map((member) => {
    const trust = cluster?.Hsms.find((h) => h.HsmId === member.HsmId)?.Trust;
    const row = { HsmId: member.HsmId, TokenLabel: member.TokenLabel };
    if (member.ConnectionErrorCode !== undefined) return { ...row, counts: false, reason: `No kmsuser session: ${member.ConnectionErrorCode}${member.Detail ? ` (${member.Detail})` : ''}.` };
    if (trust && !trust.MemberKey) return { ...row, counts: false, reason: 'Its member key pair is not made, so no copy of the key can reach it.' };
    if (trust && trust.MissingTrustFrom.length > 0) return { ...row, counts: false, reason: `Its member key is not trusted by ${trust.MissingTrustFrom.join(', ')}.` };
    if (trust && trust.Status !== 'COMPLETE') return { ...row, counts: false, reason: 'Its token lacks the cluster certificates.' };
    return { ...row, counts: true, reason: member.SessionHeld ? 'Active: this window holds its kmsuser session.' : 'Active: it logs in with the stored kmsuser password when the key is made.' };
  });
}

/** Whether Next may go on, and the sentence that says why (not). */
export function readinessVerdict(members: readonly MemberReadiness[]): { ready: boolean; message: string } {
  const active = members.filter((m) => m.counts).length;
  if (active >= MIN_ACTIVE_HSMS) return { ready: true, message: `${active} of ${members.length} HSMs are active: the key is made on one and copied, verified, to the others.` };
  // Too few members at all is the cluster's shape, not a member's fault: say what to add rather than what to fix.
  const fix = members.length < MIN_ACTIVE_HSMS ? 'Add an HSM to the cluster first.' : 'Fix the HSMs marked Not active, then check again.';
  return { ready: false, message: `${active} of ${members.length} HSMs ${active === 1 ? 'is' : 'are'} active; a key needs at least ${MIN_ACTIVE_HSMS}, so it can be proven on a second HSM. ${fix}` };
}

export interface TagRow {
  key: string;
  value: string;
}

/** The tag rows as CreateKey's Tags (blank rows dropped), or the first problem in AWS's words; a repeated key is a TagException in AWS. */
export function tagsFromRows(rows: readonly TagRow[]): { tags: Tag[]; problem: string | null } {
  const tags = rows.filter((r) => r.key.trim() !== '' || r.value !== '').map((r) => ({ TagKey: r.key.trim(), TagValue: r.value }));
  const parsed = Tags.safeParse(tags);
  if (!parsed.success) return { tags, problem: parsed.error.issues[0]?.message ?? `Tags are 1 to ${MAX_TAGS} key/value pairs.` };
  const seen = new Set<string>();
  for (const tag of tags) {
    if (seen.has(tag.TagKey)) return { tags, problem: `The tag key ${tag.TagKey} is given twice.` };
    seen.add(tag.TagKey);
  }
  return { tags, problem: null };
}

/** What CreateKey's progress says about one HSM, as the create step shows it. */
export interface HsmProgress {
  HsmId: string;
  /** The latest phase on this HSM, in plain words. */
  text: string;
  done: boolean;
}

const PHASE_TEXT: Readonly<Record<CreateKeyProgress['Phase'], { STARTED: string; DONE: string }>> = {
  RecordIntent: { STARTED: 'Recording the intent…', DONE: 'Intent recorded' },
  GenerateKey: { STARTED: 'Generating the AES-256 key…', DONE: 'Key generated here' },
  CopyKey: { STARTED: 'Copying the key (wrapped for this HSM)…', DONE: 'Copy unwrapped here' },
  VerifyCopy: { STARTED: 'Computing the check value…', DONE: 'Check value computed' },
  EnableKey: { STARTED: 'Enabling the key…', DONE: 'Key enabled' },
};

/** The progress events folded per HSM, in the order the members were first named; events without an HSM are the key's own. */
export function progressByHsm(events: readonly CreateKeyProgress[]): HsmProgress[] {
  const rows = new Map<string, HsmProgress>();
  for (const event of events) {
    if (event.HsmId === undefined) continue;
    rows.set(event.HsmId, { HsmId: event.HsmId, text: PHASE_TEXT[event.Phase][event.Status], done: event.Phase === 'VerifyCopy' && event.Status === 'DONE' });
  }
  return [...rows.values()];
}

/** The latest event of the key itself (intent, enable), in plain words; null before the first. */
export function keyPhase(events: readonly CreateKeyProgress[]): string | null {
  const last = events.filter((e) => e.HsmId === undefined).at(-1);
  return last ? PHASE_TEXT[last.Phase][last.Status] : null;
}
