import type { Pkcs11Module } from './pkcs11-module';

/**
 * Multi-step flows that run inside the HSM host child as one request (open, log in, steps, log out), so
 * nothing in between crosses the IPC channel — later flows move wrapped key material this way — and no other
 * request of the supervisor interleaves with them. Each is a host verb (host-protocol.ts); `checkpoint`
 * yields to the child's event loop, where a cancel can arrive, and throws OperationCancelledException if one
 * did. Flows are async for that reason only: every PKCS#11 call in them is synchronous.
 */
export class TokenFlows {
  constructor(
    private readonly module: Pkcs11Module,
    private readonly checkpoint: () => Promise<void>,
  ) {}

  /**
   * Sets the normal user's (kmsuser's) PIN as the SO: a read-write session, SO login, C_InitPIN, logout.
   * Secret: `soPin` goes to C_Login and `userPin` to C_InitPIN, nowhere else.
   */
  async initUserPin(slotId: string, soPin: string, userPin: string): Promise<void> {
    const session = this.module.openSession(slotId, { readWrite: true });
    try {
      this.module.login(session, 'SO', soPin);
      await this.checkpoint();
      this.module.initPin(session, userPin);
      this.module.logout(session);
    } finally {
      // Also ends the SO login if a step failed (the session owns it).
      this.module.closeSession(session);
    }
  }
}
