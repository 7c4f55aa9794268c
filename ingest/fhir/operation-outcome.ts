import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { VigilError } from '../../core/errors.ts';

/**
 * FHIR errors: every refusal is an OperationOutcome whose issues name the failing element
 * (`expression`, FHIRPath such as `Observation.valueQuantity.code`), and the HTTP status is
 * chosen here and nowhere else, from the issue type (FHIR RESTful API: 400 for content that cannot
 * be read as the resource, 422 for a resource that breaks the profile or our rules).
 */
export type IssueType = OperationOutcomeIssue['code'];

export interface FhirIssue {
  readonly code: IssueType;
  /** FHIRPath of the failing element, e.g. `Observation.component[0].valueQuantity.code`. */
  readonly expression?: string;
  readonly diagnostics: string;
  readonly severity?: 'fatal' | 'error' | 'warning' | 'information';
}

/** HTTP status per issue type; the first error issue of an outcome decides. */
const STATUS_BY_ISSUE: Readonly<Partial<Record<IssueType, number>>> = Object.freeze({
  structure: 400,
  invalid: 400,
  required: 422,
  value: 422,
  'code-invalid': 422,
  'business-rule': 422,
  processing: 422,
  'not-supported': 422,
  login: 401,
  unknown: 401,
  forbidden: 403,
  'not-found': 404,
  'too-costly': 413,
  transient: 503,
  throttled: 503,
  exception: 500,
});

/** Vigil's error codes (core/errors.ts) as FHIR issue types, for errors raised outside this edge. */
const ISSUE_BY_VIGIL_CODE: Readonly<Record<VigilError['code'], IssueType>> = Object.freeze({
  CONFIG_INVALID: 'exception',
  VALIDATION_FAILED: 'invalid',
  UNAUTHENTICATED: 'login',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not-found',
  PAYLOAD_TOO_LARGE: 'too-costly',
  UNSUPPORTED_MEDIA_TYPE: 'not-supported',
  BACKPRESSURE: 'throttled',
  BACKEND_UNAVAILABLE: 'transient',
  BACKEND_REJECTED: 'exception',
  SHUTTING_DOWN: 'transient',
  INTERNAL: 'exception',
});

/** An error this edge throws: its issues become the OperationOutcome of the answer. */
export class FhirError extends Error {
  readonly issues: readonly FhirIssue[];
  /** Overrides the status from the issue type (415 for a media type, for instance). */
  readonly statusOverride?: number;
  constructor(issues: readonly FhirIssue[], options: { cause?: unknown; status?: number } = {}) {
    super(issues[0]?.diagnostics ?? 'FHIR request refused', options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FhirError';
    this.issues = issues;
    if (options.status !== undefined) this.statusOverride = options.status;
  }
}

export function statusOfIssues(issues: readonly FhirIssue[]): number {
  const first = issues.find((i) => (i.severity ?? 'error') === 'error' || i.severity === 'fatal') ?? issues[0];
  return (first && STATUS_BY_ISSUE[first.code]) ?? 400;
}

export function operationOutcome(issues: readonly FhirIssue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity ?? 'error',
      code: i.code,
      diagnostics: i.diagnostics,
      ...(i.expression ? { expression: [i.expression] } : {}),
    })),
  };
}

/** Any error to the outcome and status of the answer: the one place where statuses are chosen. */
export function toFhirAnswer(error: unknown): { status: number; outcome: OperationOutcome; retriable: boolean } {
  if (error instanceof FhirError) {
    return { status: error.statusOverride ?? statusOfIssues(error.issues), outcome: operationOutcome(error.issues), retriable: false };
  }
  if (error instanceof VigilError) {
    const issue: FhirIssue = { code: ISSUE_BY_VIGIL_CODE[error.code], diagnostics: error.status >= 500 && !error.retriable ? 'internal error' : error.message };
    return { status: error.status, outcome: operationOutcome([issue]), retriable: error.retriable };
  }
  const e = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, outcome: operationOutcome([{ code: 'too-costly', diagnostics: 'request body is larger than the configured limit (VIGIL_BODY_LIMIT_BYTES)' }]), retriable: false };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, outcome: operationOutcome([{ code: 'not-supported', diagnostics: 'send Content-Type application/fhir+json or application/json' }]), retriable: false };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, outcome: operationOutcome([{ code: 'invalid', diagnostics: String(e.message ?? 'invalid request') }]), retriable: false };
  }
  return { status: 500, outcome: operationOutcome([{ code: 'exception', diagnostics: 'internal error' }]), retriable: false };
}

/** The HTTP status line text FHIR puts in Bundle.entry.response.status, e.g. "201 Created". */
export function statusLine(status: number): string {
  const text: Record<number, string> = {
    200: 'OK', 201: 'Created', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
    413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 500: 'Internal Server Error', 503: 'Service Unavailable',
  };
  return `${status} ${text[status] ?? ''}`.trim();
}
