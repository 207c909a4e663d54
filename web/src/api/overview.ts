// The fleet at a glance: counts computed by the server.
import { requestJson } from "./client";
import type { Overview } from "./types";

export function getOverview(signal?: AbortSignal): Promise<Overview> {
  return requestJson<Overview>("/overview", { signal });
}
