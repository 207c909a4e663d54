// Builders of API objects for tests: valid by default, overridden per test.
import type { components } from "../api/schema";

type Schemas = components["schemas"];

let seq = 0;
const uuid = (n: number) => `20000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

export function anEnvironment(overrides: Partial<Schemas["Environment"]> = {}): Schemas["Environment"] {
  seq += 1;
  return {
    id: uuid(seq),
    name: `env-${seq}`,
    tags: {},
    default_namespace: "default",
    server_url: "https://10.0.0.1:6443",
    context: "admin",
    auth_kind: "token",
    ca_fingerprint: "ab".repeat(32),
    client_certificate_expires_at: null,
    client_certificate_expiring: false,
    insecure_skip_tls_verify: false,
    permissions: { level: "cluster_admin", namespace: null, can_list_nodes: true },
    status: "up",
    kubernetes_version: "v1.33.1",
    node_count: 3,
    probe_latency_ms: 12,
    last_error: null,
    last_probe_at: new Date(Date.now() - 30_000).toISOString(),
    last_seen_at: new Date(Date.now() - 30_000).toISOString(),
    credential_version: 1,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

export function aRepository(overrides: Partial<Schemas["Repository"]> = {}): Schemas["Repository"] {
  seq += 1;
  return {
    id: uuid(seq),
    name: `repo-${seq}`,
    url: "https://git.example.com/team/manifests.git",
    scheme: "https",
    insecure_url: false,
    auth_kind: "none",
    username: null,
    has_credential: false,
    known_hosts: null,
    ca_bundle: null,
    skip_tls_verify: false,
    schedule: { kind: "interval", interval: "5m" },
    paused: false,
    status: {
      last_check_at: null,
      last_check_duration_ms: null,
      last_outcome: null,
      last_error: null,
      last_error_kind: null,
      consecutive_failures: 0,
      next_check_at: new Date(Date.now() + 300_000).toISOString(),
    },
    stack_count: 0,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

export function aCheck(overrides: Partial<Schemas["RepositoryCheck"]> = {}): Schemas["RepositoryCheck"] {
  seq += 1;
  return {
    id: uuid(seq),
    repository_id: uuid(1),
    trigger: "manual",
    status: "done",
    requested_at: new Date(Date.now() - 2000).toISOString(),
    started_at: new Date(Date.now() - 1500).toISOString(),
    finished_at: new Date(Date.now() - 1000).toISOString(),
    duration_ms: 480,
    outcome: "unchanged",
    error: null,
    error_kind: null,
    refs_listed: { "refs/heads/main": "0123456789abcdef0123456789abcdef01234567" },
    fetched_commits: [],
    deployment_event_ids: [],
    ...overrides,
  };
}

export function anOverview(overrides: { environments?: Partial<Schemas["EnvironmentSummary"]>; repositories?: Partial<Schemas["RepositorySummary"]> } = {}): Schemas["Overview"] {
  return {
    environments: { total: 0, up: 0, down: 0, unauthorized: 0, unknown: 0, certificates_expiring: 0, insecure: 0, ...overrides.environments },
    repositories: { total: 0, failing: 0, paused: 0, ...overrides.repositories },
  };
}

/** A page of items as the list endpoints answer. */
export function page<T>(items: T[], next_cursor: string | null = null) {
  return { items, next_cursor };
}
