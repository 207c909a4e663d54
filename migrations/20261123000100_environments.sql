-- environments: the Kubernetes clusters Berth deploys to (one kubeconfig context each).

create table environment (
    environment_id uuid primary key,
    name text not null,
    -- free key=value labels used to target stacks; a GIN index serves selector queries
    -- (`tags @> '{"env":"prod"}'`, `tags ? 'region'`).
    tags jsonb not null default '{}'::jsonb,
    -- namespace used for namespaced objects that name none (the context's namespace by default).
    default_namespace text not null default 'default',
    server_url text not null,
    -- the kubeconfig context the credentials came from (informational).
    context_name text not null,
    -- token, client_certificate, basic, exec, auth_provider or none.
    auth_kind text not null,
    -- sha-256 (hex) of the first CA certificate in the kubeconfig, when one was given.
    ca_fingerprint text,
    client_cert_expires_at timestamptz,
    -- true when the kubeconfig says insecure-skip-tls-verify: the server certificate is not checked.
    insecure_skip_tls_verify boolean not null default false,
    -- the reduced single-context kubeconfig, sealed with AES-256-GCM (context `environment:<id>`).
    sealed_kubeconfig bytea not null,
    -- bumped on every credential rotation; kube clients are cached per (id, version).
    credential_version integer not null default 1,
    -- what the credentials may do, as found by the last verification (level, namespace, nodes).
    permissions jsonb not null default '{}'::jsonb,
    status text not null default 'unknown',
    kubernetes_version text,
    node_count integer,
    probe_latency_ms integer,
    last_error text,
    last_probe_at timestamptz,
    -- last time the API server answered (whatever the answer).
    last_seen_at timestamptz,
    -- when the next probe is due; probe rounds claim due rows with FOR UPDATE SKIP LOCKED.
    next_probe_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint environment_name_check check (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    constraint environment_status_check check (status in ('up', 'down', 'unauthorized', 'unknown')),
    constraint environment_auth_kind_check
        check (auth_kind in ('token', 'client_certificate', 'basic', 'exec', 'auth_provider', 'none')),
    constraint environment_tags_check check (jsonb_typeof(tags) = 'object')
);
create unique index environment_name_key on environment (name);
create index environment_tags_idx on environment using gin (tags);
create index environment_next_probe_at_idx on environment (next_probe_at);
create index environment_status_idx on environment (status, name);
