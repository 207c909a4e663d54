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

export function anOverview(
  overrides: {
    environments?: Partial<Schemas["EnvironmentSummary"]>;
    repositories?: Partial<Schemas["RepositorySummary"]>;
    stacks?: Partial<Schemas["StackSummary"]>;
    rollouts?: Partial<Schemas["RolloutSummary"]>;
  } = {},
): Schemas["Overview"] {
  return {
    environments: { total: 0, up: 0, down: 0, unauthorized: 0, unknown: 0, certificates_expiring: 0, insecure: 0, ...overrides.environments },
    repositories: { total: 0, failing: 0, paused: 0, ...overrides.repositories },
    stacks: { total: 0, in_sync: 0, out_of_date: 0, deploying: 0, failed: 0, unknown: 0, paused: 0, ...overrides.stacks },
    rollouts: { in_progress: 0, failed_last_day: 0, ...overrides.rollouts },
  };
}

export const COMMIT_A = "a".repeat(40);
export const COMMIT_B = "b".repeat(40);

export function aStack(overrides: Partial<Schemas["Stack"]> = {}): Schemas["Stack"] {
  seq += 1;
  return {
    id: uuid(seq),
    name: `stack-${seq}`,
    repository_id: uuid(9000),
    repository_name: "manifests",
    ref: "main",
    paths: ["deploy"],
    watched_paths: [],
    renderer: "plain",
    environment_ids: [],
    selector: "env=prod",
    default_namespace: null,
    create_namespace: false,
    auto_deploy: true,
    prune: true,
    wait_for_health: true,
    health_timeout_seconds: 300,
    force_conflicts: false,
    paused: false,
    rollback_hold_commit: null,
    latest_commit: COMMIT_B,
    last_seen_commit: COMMIT_B,
    deployed_commit: COMMIT_A,
    deleting: false,
    sync_state: "out_of_date",
    targets: { in_sync: 1, out_of_date: 1, deploying: 0, failed: 0, unknown: 0 },
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

export function aTarget(stack: Schemas["Stack"], overrides: Partial<Schemas["StackTarget"]> = {}): Schemas["StackTarget"] {
  seq += 1;
  return {
    stack_id: stack.id,
    stack_name: stack.name,
    environment_id: uuid(seq),
    environment_name: `env-${seq}`,
    environment_status: "up",
    deployed_commit: stack.deployed_commit,
    latest_commit: stack.latest_commit,
    state: "in_sync",
    last_deployment_id: uuid(seq + 5000),
    last_deployment_status: "succeeded",
    last_deployed_at: new Date(Date.now() - 60_000).toISOString(),
    last_error: null,
    object_count: 3,
    ...overrides,
  };
}

export function aRollout(overrides: Partial<Schemas["RolloutDetail"]> = {}): Schemas["RolloutDetail"] {
  seq += 1;
  return {
    id: uuid(seq),
    stack_id: uuid(1),
    stack_name: "shop",
    commit: COMMIT_A,
    trigger: "manual",
    actor: "ada",
    deployment_event_id: null,
    status: "succeeded",
    created_at: new Date(Date.now() - 120_000).toISOString(),
    finished_at: new Date(Date.now() - 100_000).toISOString(),
    deployments: { total: 1, queued: 0, running: 0, succeeded: 1, failed: 0, superseded: 0 },
    targets: [],
    ...overrides,
  };
}

export function aDeployment(overrides: Partial<Schemas["Deployment"]> = {}): Schemas["Deployment"] {
  seq += 1;
  return {
    id: uuid(seq),
    rollout_id: uuid(1),
    stack_id: uuid(1),
    stack_name: "shop",
    environment_id: uuid(2),
    environment_name: "prod-eu",
    commit: COMMIT_A,
    kind: "apply",
    trigger: "manual",
    actor: "ada",
    status: "succeeded",
    attempts: 1,
    next_attempt_at: new Date().toISOString(),
    superseded_by: null,
    error_phase: null,
    error: null,
    object_count: 2,
    created_at: new Date(Date.now() - 120_000).toISOString(),
    started_at: new Date(Date.now() - 119_000).toISOString(),
    finished_at: new Date(Date.now() - 110_000).toISOString(),
    ...overrides,
  };
}

export function anObject(seqNo: number, overrides: Partial<Schemas["DeploymentObject"]> = {}): Schemas["DeploymentObject"] {
  return { seq: seqNo, group: "", version: "v1", kind: "ConfigMap", namespace: "shop", name: `cm-${seqNo}`, action: "created", message: null, ...overrides };
}

/** A page of items as the list endpoints answer. */
export function page<T>(items: T[], next_cursor: string | null = null) {
  return { items, next_cursor };
}
