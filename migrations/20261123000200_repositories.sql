-- git repositories, their poll schedules and checks; the minimal stack (what each stack tracks)
-- and the durable deployment events that checks emit for the deployment engine (issue 6).

create table repository (
    repository_id uuid primary key,
    name text not null,
    url text not null,
    -- the URL reduced to host and path (lowercase, no scheme, credentials, port or .git), used to
    -- match webhook payloads to repositories.
    url_key text not null,
    -- none | https (username + token) | ssh (private key + known_hosts entry)
    auth_kind text not null,
    username text,
    -- the token or SSH private key, sealed with the context 'repository:<id>:credential'.
    sealed_credential bytea,
    -- known_hosts line(s) for ssh; public data.
    known_hosts text,
    -- extra PEM certificates trusted for this repository's https server.
    ca_bundle text,
    skip_tls_verify boolean not null default false,
    -- interval | cron | manual
    schedule_kind text not null,
    interval_seconds integer,
    cron text,
    time_zone text not null default 'UTC',
    paused boolean not null default false,
    -- secret for webhook signatures, sealed with the context 'repository:<id>:webhook'.
    sealed_webhook_secret bytea not null,
    -- when the next scheduled check is due; null for manual or paused repositories.
    next_run_at timestamptz,
    last_check_at timestamptz,
    last_check_duration_ms bigint,
    -- unchanged (no tracked ref moved) | moved (refs moved, no watched path changed) | changed
    -- (deployment events emitted) | failed
    last_outcome text,
    last_error text,
    last_error_kind text,
    consecutive_failures integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint repository_auth_kind_check check (auth_kind in ('none', 'https', 'ssh')),
    constraint repository_schedule_kind_check check (schedule_kind in ('interval', 'cron', 'manual')),
    constraint repository_schedule_check check (
        (schedule_kind = 'interval' and interval_seconds > 0)
        or (schedule_kind = 'cron' and cron is not null)
        or schedule_kind = 'manual'),
    constraint repository_name_check check (length(name) between 1 and 100)
);
create unique index repository_name_key on repository (name);
create index repository_url_key_idx on repository (url_key);
create index repository_next_run_at_idx on repository (next_run_at) where not paused;

-- the last commit seen for each ref that stacks track.
create table repository_ref (
    repository_id uuid not null references repository (repository_id) on delete cascade,
    ref_name text not null,
    last_seen_commit text,
    updated_at timestamptz not null default now(),
    primary key (repository_id, ref_name)
);

-- one row per check of a repository (scheduled, webhook or manual).
create table repository_check (
    repository_check_id uuid primary key,
    repository_id uuid not null references repository (repository_id) on delete cascade,
    -- schedule | webhook | manual
    trigger text not null,
    -- queued -> running -> done
    status text not null default 'queued',
    requested_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz,
    duration_ms bigint,
    -- unchanged | moved | changed | failed (set when done)
    outcome text,
    error text,
    error_kind text,
    -- replica running the check and until when its claim holds; an expired claim is re-queued.
    claimed_by uuid,
    lease_until timestamptz,
    -- {"refs/heads/main": "<sha>", ...} as listed
    refs_listed jsonb not null default '{}'::jsonb,
    -- commits fetched into the mirror
    fetched_commits text[] not null default '{}',
    constraint repository_check_trigger_check check (trigger in ('schedule', 'webhook', 'manual')),
    constraint repository_check_status_check check (status in ('queued', 'running', 'done'))
);
-- at most one queued check per repository: requests made while one is queued join it.
create unique index repository_check_one_queued_key on repository_check (repository_id)
    where status = 'queued';
-- at most one running check per repository.
create unique index repository_check_one_running_key on repository_check (repository_id)
    where status = 'running';
create index repository_check_repository_idx on repository_check (repository_id, requested_at desc);

-- what to deploy: issue 6 adds renderer, targets and policies; this is what change detection needs.
create table stack (
    stack_id uuid primary key,
    name text not null,
    repository_id uuid not null references repository (repository_id) on delete restrict,
    -- branch name, full ref (refs/heads/x, refs/tags/x), tag name, or a full commit sha (a pin)
    ref text not null,
    -- paths in the repository that hold the stack's manifests ('' is the root)
    paths text[] not null default '{}',
    -- extra paths whose changes also redeploy the stack (e.g. kustomize bases outside paths)
    watched_paths text[] not null default '{}',
    paused boolean not null default false,
    auto_deploy boolean not null default true,
    -- the last commit change detection looked at for this stack, and the ids of its watched
    -- paths there ({"path": "<tree or blob id>" | null})
    last_seen_commit text,
    last_seen_trees jsonb,
    -- the commit the deployment engine last deployed successfully
    deployed_commit text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index stack_name_key on stack (name);
create index stack_repository_idx on stack (repository_id);

-- durable deployment events, consumed by the deployment engine (consumed_at set when it has
-- turned the event into a rollout).
create table deployment_event (
    deployment_event_id uuid primary key,
    stack_id uuid not null references stack (stack_id) on delete cascade,
    commit text not null,
    -- poll | webhook | manual
    trigger text not null,
    repository_check_id uuid references repository_check (repository_check_id) on delete set null,
    created_at timestamptz not null default now(),
    consumed_at timestamptz,
    constraint deployment_event_trigger_check check (trigger in ('poll', 'webhook', 'manual'))
);
create index deployment_event_pending_idx on deployment_event (created_at) where consumed_at is null;
create index deployment_event_check_idx on deployment_event (repository_check_id);
