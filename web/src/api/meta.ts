// Server metadata that needs no session.
import { requestJson } from "./client";
import type { VersionInfo } from "./types";

export function getVersion(signal?: AbortSignal): Promise<VersionInfo> {
  return requestJson<VersionInfo>("/version", { auth: false, signal });
}
