/**
 * Who is calling: the token's subject and its role. The dashboard's auth hook sets it on every
 * request; the FHIR and readings routes, and the audit log, read it.
 */
export const ROLES = ['device', 'clinician', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  readonly sub: string;
  readonly role: Role;
}
