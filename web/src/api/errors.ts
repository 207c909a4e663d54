// Typed errors for every failed API call, parsed from Berth's single JSON error shape
// `{"error":{"code","field","message"}}`. Network failures and non-JSON bodies map onto the same type.
import type { ErrorBody } from "./types";

export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    /** HTTP status; 0 when the request never got a response. */
    readonly status: number,
    /** Stable machine-readable code, e.g. `validation`, `conflict`, `invalid_credentials`. */
    readonly code: string,
    message: string,
    /** The request field the error is about, if any. */
    readonly field: string | null = null,
    /** Seconds from the Retry-After header of a 429, if given. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== "object" || v === null || !("error" in v)) return false;
  const err: unknown = v.error;
  return (
    typeof err === "object" &&
    err !== null &&
    "code" in err &&
    typeof err.code === "string" &&
    "message" in err &&
    typeof err.message === "string"
  );
}

function parseRetryAfter(header: string | null): number | null {
  if (header === null || header.trim() === "") return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

const fallbackMessages: Record<number, string> = {
  400: "The request was not accepted.",
  401: "You are not signed in.",
  403: "You are not allowed to do this.",
  404: "Not found.",
  409: "This conflicts with something that already exists.",
  429: "Too many requests. Try again later.",
  502: "The server is unreachable (bad gateway).",
  503: "The server is unavailable. Try again shortly.",
};

/** Builds an ApiError from a non-2xx response, whatever its body. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(res.headers.get("Retry-After"));
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): fall through to a generic message.
  }
  if (isErrorBody(body)) {
    const { code, message, field } = body.error;
    return new ApiError(res.status, code, message, typeof field === "string" ? field : null, retryAfter);
  }
  const message = fallbackMessages[res.status] ?? `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ""}.`;
  return new ApiError(res.status, `http_${res.status}`, message, null, retryAfter);
}

export function networkError(cause: unknown): ApiError {
  const err = new ApiError(0, "network", "Cannot reach the Berth server. Check your connection and try again.");
  err.cause = cause;
  return err;
}

/** A message fit to show a person, for any thrown value. */
export function describeError(e: unknown): string {
  if (isApiError(e)) {
    if (e.code === "rate_limited" || e.status === 429) {
      return e.retryAfterSeconds !== null
        ? `Too many attempts. Try again in ${formatWait(e.retryAfterSeconds)}.`
        : "Too many attempts. Try again later.";
    }
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return "Something went wrong.";
}

function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}
