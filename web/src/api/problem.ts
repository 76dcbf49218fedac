/**
 * Errors from the API: problem+json (RFC 9457) turned into one message a person reads.
 * The `detail` names the offending field on a 422 ("body.condition.threshold: ..."),
 * so forms can put it next to the field (`fieldErrors`).
 */

export interface FieldProblem {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldProblem[];
  readonly retryAfterS: number | null;

  constructor(status: number, title: string, detail: string, errors: FieldProblem[] = [], retryAfterS: number | null = null) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.errors = errors;
    this.retryAfterS = retryAfterS;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The ApiError of a failed response's status and body (problem+json, or anything else). */
export function problemOf(status: number, body: unknown, retryAfter: string | null = null): ApiError {
  const retryAfterS = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : null;
  if (isRecord(body)) {
    const title = typeof body.title === "string" ? body.title : `HTTP ${status}`;
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? "");
    const errors = Array.isArray(body.errors)
      ? body.errors.filter(isRecord).map((item) => ({
          field: String(item.field ?? "request"),
          message: String(item.message ?? ""),
        }))
      : [];
    return new ApiError(status, title, detail, errors, retryAfterS);
  }
  const text = typeof body === "string" ? body.slice(0, 300) : "";
  return new ApiError(status, `HTTP ${status}`, text, [], retryAfterS);
}

/**
 * Field errors keyed by the form's field path: "body.condition.threshold" becomes
 * "condition.threshold" (the body prefix says nothing to a person filling a form).
 */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const found: Record<string, string> = {};
  for (const { field, message } of error.errors) {
    const path = field.replace(/^(body|query|path)\./, "");
    found[path] ??= message;
  }
  return found;
}

/** What to show for any error: the API's own words when it spoke. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.detail ? `${error.detail} (${error.status} ${error.title})` : `${error.status} ${error.title}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
