/** Why one CSV value cannot become its column's type. Returned, not thrown: rejects are data. */
export type RejectCode =
  | 'required'
  | 'not-an-integer'
  | 'not-a-number'
  | 'not-a-boolean'
  | 'two-digit-year'
  | 'not-a-date'
  | 'time-on-date'
  | 'local-time-gap'
  | 'local-time-ambiguous';

export class ValueReject {
  readonly code: RejectCode;
  readonly reason: string;
  constructor(code: RejectCode, reason: string) {
    this.code = code;
    this.reason = reason;
  }
}
