/**
 * The explorer's time filter is in UTC, like the store's times: a datetime-local input
 * holds no zone, so its text is read and written as UTC both ways (not as the browser's
 * local time, which shifted a filter by the browser's offset on every Apply).
 */

/** An ISO time (any zone) as the input's text in UTC, "2026-01-01T10:00:00". */
export function utcInputOf(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString().slice(0, 19);
}

/** The input's text, read as UTC, as an ISO time; a text with a zone keeps its zone. */
export function isoOfUtcInput(value: string | undefined): string {
  if (!value) return "";
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(value);
  const date = new Date(zoned ? value : `${value}Z`);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}
