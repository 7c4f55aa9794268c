/**
 * The session revocation port: ids of sessions signed out before their expiry.
 *
 * Every instance behind a load balancer must see the same list, so a session signed out on one
 * instance is refused by all of them; an entry is needed only until the session would have
 * expired anyway, after which the adapter may forget it.
 *
 * Promises (checked by the contract suite in core/contracts/session-revocations-contract.ts):
 * - `revoke` resolves once the revocation is durable and visible to every reader;
 *   revoking twice is harmless.
 * - `isRevoked` is true for a revoked id until its `expiresAt` (epoch ms) has passed; an id never
 *   revoked is not revoked.
 */
export interface SessionRevocations {
  readonly kind: string;
  provision(): Promise<void>;
  revoke(sessionId: string, expiresAt: number): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
