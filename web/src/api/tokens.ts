// API tokens: the caller's own, or everyone's for admins.
import { requestJson, requestNoContent } from "./client";
import type { CreatedToken, CreateTokenRequest, TokenPage } from "./types";

export function listTokens(all: boolean, cursor?: string | null, limit = 50, signal?: AbortSignal): Promise<TokenPage> {
  return requestJson<TokenPage>("/tokens", { query: { limit, cursor, all: all ? true : undefined }, signal });
}

export function createToken(req: CreateTokenRequest): Promise<CreatedToken> {
  return requestJson<CreatedToken>("/tokens", { method: "POST", body: req });
}

export function revokeToken(id: string): Promise<void> {
  return requestNoContent(`/tokens/${encodeURIComponent(id)}`, { method: "DELETE" });
}
