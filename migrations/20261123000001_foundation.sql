-- foundation: users, sessions, api tokens, audit log and server-wide sealed secrets.

create table app_user (
    user_id uuid primary key,
    username text not null,
    -- argon2id PHC string; never returned by the API.
    password_hash text not null,
    role text not null,
    disabled boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    last_login_at timestamptz,
    constraint app_user_role_check check (role in ('admin', 'operator', 'viewer')),
    constraint app_user_username_check check (username ~ '^[a-z0-9][a-z0-9._-]{0,62}$')
);
create unique index app_user_username_key on app_user (username);

-- one row per login; the JWT's jti points here so logout and revocation work on every replica.
create table user_session (
    session_id uuid primary key,
    user_id uuid not null references app_user (user_id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz,
    client_addr text,
    user_agent text
);
create index user_session_user_id_idx on user_session (user_id) where revoked_at is null;

create table api_token (
    api_token_id uuid primary key,
    user_id uuid not null references app_user (user_id) on delete cascade,
    name text not null,
    -- sha-256 (hex) of the full token; the token itself is shown once and never stored.
    token_hash text not null,
    -- first characters of the token, shown in lists so people can tell tokens apart.
    prefix text not null,
    -- the token's own ceiling; the effective role is the lower of this and the owner's role.
    role text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    constraint api_token_role_check check (role in ('admin', 'operator', 'viewer')),
    constraint api_token_name_check check (length(name) between 1 and 100)
);
create unique index api_token_token_hash_key on api_token (token_hash);
create index api_token_user_id_idx on api_token (user_id, created_at desc);

create table audit_event (
    audit_event_id bigserial primary key,
    at timestamptz not null default now(),
    -- null actor means Berth itself (schedulers, probes, first start).
    actor_id uuid,
    actor text,
    action text not null,
    target text,
    client_addr text,
    details jsonb not null default '{}'::jsonb
);
create index audit_event_at_idx on audit_event (at desc, audit_event_id desc);
create index audit_event_action_idx on audit_event (action, audit_event_id desc);
create index audit_event_actor_idx on audit_event (actor, audit_event_id desc);

-- server-wide secrets such as the JWT signing key, sealed with the data key.
create table server_secret (
    name text primary key,
    sealed bytea not null,
    created_at timestamptz not null default now()
);
