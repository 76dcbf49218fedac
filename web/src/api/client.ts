/**
 * One way to call the API: same origin, the signed-in key as a Bearer header, JSON in
 * and out, problem+json turned into ApiError. The key never goes into a URL.
 */
import { ApiError, problemOf } from "./problem";

export type Query = Record<string, string | number | boolean | string[] | null | undefined>;

export function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((item) => params.append(name, item));
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export class ApiClient {
  constructor(
    private readonly key: string,
    private readonly base = "",
  ) {}

  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.key}`, Accept: "application/json" };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}${queryString(options.query)}`, { method, headers, body });
    } catch (error) {
      throw new ApiError(0, "Network error", `cannot reach the API (${error instanceof Error ? error.message : String(error)})`);
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text for the error message
    }
    if (!response.ok) throw problemOf(response.status, parsed, response.headers.get("Retry-After"));
    return parsed as T;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>("GET", path, { query });
  }

  post<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.request<T>("POST", path, { body, query });
  }

  put<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.request<T>("PUT", path, { body, query });
  }

  delete<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.request<T>("DELETE", path, { body, query });
  }
}
