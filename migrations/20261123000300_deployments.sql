-- the deployment engine: stack policies and targets, per-target sync state and prune inventory,
-- rollouts, deployments (a durable queue with leases) and per-object results.

alter table stack
    add column renderer text not null default 'plain',
    -- environments named explicitly, in addition to those the selector matches
    add column target_environment_ids uuid[] not null default '{}',
    -- a tag selector (`env=prod,region in (eu,us)`); null: no selector
    add column target_selector text,
    add column default_namespace text,
    add column create_namespace boolean not null default false,
    add column prune boolean not null default true,
    add column wait_for_health boolean not null default true,
    add column health_timeout_seconds integer not null default 300,
    add column force_conflicts boolean not null default false,
    -- the commit of the newest content change change detection reported (its deployment event)
    add column latest_commit text,
    -- set by a rollback: auto-deploy holds until a commit other than this one arrives, or an
    -- operator resumes the stack
    add column rollback_hold_commit text,
    -- set while a deletion that removes the stack's objects runs; the row goes when it succeeds
    add column deleting boolean not null default false,
    add constraint stack_renderer_check check (renderer in ('plain', 'kustomize')),
    add constraint stack_health_timeout_check check (health_timeout_seconds between 1 and 86400);

-- one row per (stack, environment) the stack targets now.
create table stack_target (
    stack_id uuid not null references stack (stack_id) on delete cascade,
    environment_id uuid not null references environment (environment_id) on delete cascade,
    -- the commit of the last successful deployment here
    deployed_commit text,
    -- the objects the last successful deployment applied here: the next prune's inventory
    inventory jsonb not null default '[]',
    last_deployment_id uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint stack_target_pkey primary key (stack_id, environment_id)
);
create index stack_target_environment_idx on stack_target (environment_id);

create table rollout (
    rollout_id uuid primary key,
    -- kept (null) when the stack is deleted, so history survives
    stack_id uuid references stack (stack_id) on delete set null,
    stack_name text not null,
    commit text not null,
    trigger text not null,
    -- user name, `token:<name>`, or `system`
    actor text not null,
    deployment_event_id uuid,
    -- queued | running | succeeded | failed | superseded | partial (some targets failed)
    status text not null default 'queued',
    created_at timestamptz not null default now(),
    finished_at timestamptz,
    constraint rollout_trigger_check check (trigger in
        ('poll', 'webhook', 'manual', 'redeploy', 'rollback', 'environment_joined', 'removal')),
    constraint rollout_status_check check (status in
        ('queued', 'running', 'succeeded', 'failed', 'superseded', 'partial'))
);
create index rollout_stack_idx on rollout (stack_id, created_at desc);
create index rollout_created_idx on rollout (created_at desc, rollout_id desc);

create table deployment (
    deployment_id uuid primary key,
    rollout_id uuid not null references rollout (rollout_id) on delete cascade,
    stack_id uuid references stack (stack_id) on delete set null,
    environment_id uuid references environment (environment_id) on delete set null,
    environment_name text not null,
    commit text not null,
    -- apply: render and apply the stack; remove: delete the stack's objects (stack deletion)
    kind text not null default 'apply',
    -- queued | running | succeeded | failed | superseded
    status text not null default 'queued',
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    -- the replica holding the deployment while it runs, and until when (heartbeats extend it)
    lease_owner text,
    lease_until timestamptz,
    -- the queued deployment that replaced this one
    superseded_by uuid,
    -- render | plan | apply | prune | health | queue
    error_phase text,
    error text,
    object_count integer not null default 0,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz,
    constraint deployment_kind_check check (kind in ('apply', 'remove')),
    constraint deployment_status_check check (status in
        ('queued', 'running', 'succeeded', 'failed', 'superseded'))
);
-- at most one running and one queued deployment per (stack, environment).
create unique index deployment_one_running_key on deployment (stack_id, environment_id)
    where status = 'running';
create unique index deployment_one_queued_key on deployment (stack_id, environment_id)
    where status = 'queued';
create index deployment_queue_idx on deployment (next_attempt_at) where status = 'queued';
create index deployment_lease_idx on deployment (lease_until) where status = 'running';
create index deployment_rollout_idx on deployment (rollout_id);
create index deployment_target_idx on deployment (stack_id, environment_id, created_at desc);
create index deployment_environment_idx on deployment (environment_id, created_at desc);

create table deployment_object (
    deployment_id uuid not null references deployment (deployment_id) on delete cascade,
    seq integer not null,
    api_group text not null,
    api_version text not null,
    kind text not null,
    namespace text,
    name text not null,
    -- created | configured | unchanged | pruned | failed
    action text not null,
    message text,
    constraint deployment_object_pkey primary key (deployment_id, seq),
    constraint deployment_object_action_check check (action in
        ('created', 'configured', 'unchanged', 'pruned', 'failed'))
);

-- the sync state of every (stack, environment), as the API and the dashboard show it.
create view stack_target_state as
select t.stack_id,
       s.name as stack_name,
       t.environment_id,
       e.name as environment_name,
       e.status as environment_status,
       t.deployed_commit,
       s.latest_commit,
       t.last_deployment_id,
       ld.status as last_deployment_status,
       ld.finished_at as last_deployed_at,
       ld.error as last_error,
       jsonb_array_length(t.inventory)::bigint as object_count,
       case
           when exists (select 1 from deployment a
                        where a.stack_id = t.stack_id and a.environment_id = t.environment_id
                          and a.status in ('queued', 'running')) then 'deploying'
           when ld.status = 'failed' then 'failed'
           when s.latest_commit is null and t.deployed_commit is null then 'unknown'
           when s.latest_commit is null or t.deployed_commit = s.latest_commit then 'in_sync'
           else 'out_of_date'
       end as state
from stack_target t
join stack s on s.stack_id = t.stack_id
join environment e on e.environment_id = t.environment_id
left join deployment ld on ld.deployment_id = t.last_deployment_id;
