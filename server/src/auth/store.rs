//! SQL for users, sessions, API tokens and server secrets. The only place auth SQL lives.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::{ApiToken, AuthError, Role, User};
use crate::pagination::{Page, PageRequest};

#[derive(sqlx::FromRow)]
struct UserRow {
    user_id: Uuid,
    username: String,
    role: String,
    disabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
}

impl TryFrom<UserRow> for User {
    type Error = AuthError;
    fn try_from(r: UserRow) -> Result<Self, AuthError> {
        Ok(User {
            id: r.user_id,
            username: r.username,
            role: r.role.parse()?,
            disabled: r.disabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_login_at: r.last_login_at,
        })
    }
}

const USER_COLUMNS: &str =
    "user_id, username, role, disabled, created_at, updated_at, last_login_at";

fn unique_violation(e: sqlx::Error, field: &'static str) -> AuthError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => AuthError::Conflict { field },
        _ => AuthError::Database(e),
    }
}

pub async fn insert_server_secret_if_missing(
    db: impl PgExecutor<'_>,
    name: &str,
    sealed: &[u8],
) -> Result<(), AuthError> {
    sqlx::query("insert into server_secret (name, sealed) values ($1, $2) on conflict do nothing")
        .bind(name)
        .bind(sealed)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn server_secret(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<Vec<u8>>, AuthError> {
    Ok(
        sqlx::query_scalar("select sealed from server_secret where name = $1")
            .bind(name)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn count_users(db: impl PgExecutor<'_>) -> Result<i64, AuthError> {
    Ok(sqlx::query_scalar("select count(*) from app_user")
        .fetch_one(db)
        .await?)
}

/// Inserts a user; a taken username is a `Conflict` on `username`.
pub async fn insert_user(
    db: impl PgExecutor<'_>,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<User, AuthError> {
    let sql = format!(
        "insert into app_user (user_id, username, password_hash, role) values ($1, $2, $3, $4) \
         returning {USER_COLUMNS}"
    );
    sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::new_v4())
        .bind(username)
        .bind(password_hash)
        .bind(role.as_str())
        .fetch_one(db)
        .await
        .map_err(|e| unique_violation(e, "username"))?
        .try_into()
}

/// Inserts the first admin only while no user exists named `admin`; returns whether it did.
pub async fn insert_first_admin(
    db: impl PgExecutor<'_>,
    password_hash: &str,
) -> Result<bool, AuthError> {
    let done = sqlx::query(
        "insert into app_user (user_id, username, password_hash, role) \
         select $1, 'admin', $2, 'admin' where not exists (select 1 from app_user) \
         on conflict do nothing",
    )
    .bind(Uuid::new_v4())
    .bind(password_hash)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn user_by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<User>, AuthError> {
    let sql = format!("select {USER_COLUMNS} from app_user where user_id = $1");
    sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(User::try_from)
        .transpose()
}

/// The user and their password hash, for login.
pub async fn user_with_hash(
    db: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<(User, String)>, AuthError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let sql = format!("select {USER_COLUMNS}, password_hash from app_user where username = $1");
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(username)
        .fetch_optional(db)
        .await?;
    row.map(|r| Ok((User::try_from(r.user)?, r.password_hash)))
        .transpose()
}

pub async fn password_hash(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<String>, AuthError> {
    Ok(
        sqlx::query_scalar("select password_hash from app_user where user_id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

/// Filters for the user list.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub search: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// Users ordered by username; the cursor is the last username.
pub async fn list_users(
    db: &PgPool,
    filter: &UserFilter,
    page: &PageRequest<String>,
) -> Result<Page<User>, AuthError> {
    let sql = format!(
        "select {USER_COLUMNS} from app_user \
         where ($1::text is null or username > $1) \
           and ($2::text is null or strpos(username, lower($2)) > 0) \
           and ($3::text is null or role = $3) \
           and ($4::bool is null or disabled = $4) \
         order by username limit $5"
    );
    let rows = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
        .bind(page.after.as_deref())
        .bind(filter.search.as_deref())
        .bind(filter.role.map(Role::as_str))
        .bind(filter.disabled)
        .bind(page.fetch_limit())
        .fetch_all(db)
        .await?;
    let users = rows
        .into_iter()
        .map(User::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page.finish(users, |u| u.username.clone()))
}

/// What an admin may change on a user; `None` leaves the value as it is.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

pub async fn update_user(
    db: impl PgExecutor<'_>,
    id: Uuid,
    changes: &UserChanges,
) -> Result<Option<User>, AuthError> {
    let sql = format!(
        "update app_user set role = coalesce($2, role), disabled = coalesce($3, disabled), \
         password_hash = coalesce($4, password_hash), updated_at = now() \
         where user_id = $1 returning {USER_COLUMNS}"
    );
    sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(changes.role.map(Role::as_str))
        .bind(changes.disabled)
        .bind(changes.password_hash.as_deref())
        .fetch_optional(db)
        .await?
        .map(User::try_from)
        .transpose()
}

/// Counts enabled admins other than `except`, to refuse removing the last one.
pub async fn other_active_admins(db: impl PgExecutor<'_>, except: Uuid) -> Result<i64, AuthError> {
    Ok(sqlx::query_scalar(
        "select count(*) from app_user where role = 'admin' and not disabled and user_id <> $1",
    )
    .bind(except)
    .fetch_one(db)
    .await?)
}

pub async fn touch_last_login(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), AuthError> {
    sqlx::query("update app_user set last_login_at = now() where user_id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn insert_session(
    db: impl PgExecutor<'_>,
    session_id: Uuid,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    client_addr: Option<&str>,
    user_agent: Option<&str>,
) -> Result<(), AuthError> {
    sqlx::query(
        "insert into user_session (session_id, user_id, expires_at, client_addr, user_agent) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(session_id)
    .bind(user_id)
    .bind(expires_at)
    .bind(client_addr)
    .bind(user_agent.map(|ua| ua.chars().take(300).collect::<String>()))
    .execute(db)
    .await?;
    Ok(())
}

/// The user of a live session: not revoked, not expired, user enabled.
pub async fn session_user(
    db: impl PgExecutor<'_>,
    session_id: Uuid,
    user_id: Uuid,
) -> Result<Option<User>, AuthError> {
    let sql = format!(
        "select {} from user_session s join app_user u using (user_id) \
         where s.session_id = $1 and s.user_id = $2 and s.revoked_at is null \
           and s.expires_at > now() and not u.disabled",
        USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
        .bind(session_id)
        .bind(user_id)
        .fetch_optional(db)
        .await?
        .map(User::try_from)
        .transpose()
}

pub async fn revoke_session(db: impl PgExecutor<'_>, session_id: Uuid) -> Result<(), AuthError> {
    sqlx::query(
        "update user_session set revoked_at = now() where session_id = $1 and revoked_at is null",
    )
    .bind(session_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes every live session of a user; returns how many.
pub async fn revoke_user_sessions(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<u64, AuthError> {
    let done = sqlx::query(
        "update user_session set revoked_at = now() where user_id = $1 and revoked_at is null",
    )
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes sessions that expired more than a day ago.
pub async fn delete_old_sessions(db: impl PgExecutor<'_>) -> Result<u64, AuthError> {
    let done = sqlx::query("delete from user_session where expires_at < now() - interval '1 day'")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    api_token_id: Uuid,
    name: String,
    prefix: String,
    role: String,
    user_id: Uuid,
    username: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = AuthError;
    fn try_from(r: TokenRow) -> Result<Self, AuthError> {
        Ok(ApiToken {
            id: r.api_token_id,
            name: r.name,
            prefix: r.prefix,
            role: r.role.parse()?,
            user_id: r.user_id,
            username: r.username,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
    }
}

const TOKEN_COLUMNS: &str = "t.api_token_id, t.name, t.prefix, t.role, t.user_id, u.username, \
     t.created_at, t.expires_at, t.last_used_at, t.revoked_at";

pub struct NewToken<'a> {
    pub user_id: Uuid,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub prefix: &'a str,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert_token(
    db: impl PgExecutor<'_>,
    t: &NewToken<'_>,
) -> Result<ApiToken, AuthError> {
    let sql = format!(
        "with t as (insert into api_token (api_token_id, user_id, name, token_hash, prefix, role, expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7) returning *) \
         select {TOKEN_COLUMNS} from t join app_user u using (user_id)"
    );
    sqlx::query_as::<_, TokenRow>(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::new_v4())
        .bind(t.user_id)
        .bind(t.name)
        .bind(t.token_hash)
        .bind(t.prefix)
        .bind(t.role.as_str())
        .bind(t.expires_at)
        .fetch_one(db)
        .await?
        .try_into()
}

/// The live token with this hash and its enabled owner, marking it used.
pub async fn use_token(
    db: impl PgExecutor<'_>,
    token_hash: &str,
) -> Result<Option<(ApiToken, User)>, AuthError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        token: TokenRow,
        owner_role: String,
        disabled: bool,
        owner_created_at: DateTime<Utc>,
        owner_updated_at: DateTime<Utc>,
        last_login_at: Option<DateTime<Utc>>,
    }
    let sql = format!(
        "with t as (update api_token set last_used_at = now() \
           where token_hash = $1 and revoked_at is null and (expires_at is null or expires_at > now()) \
           returning *) \
         select {TOKEN_COLUMNS}, u.role as owner_role, u.disabled, u.created_at as owner_created_at, \
                u.updated_at as owner_updated_at, u.last_login_at \
         from t join app_user u using (user_id)"
    );
    let Some(row) = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(token_hash)
        .fetch_optional(db)
        .await?
    else {
        return Ok(None);
    };
    if row.disabled {
        return Ok(None);
    }
    let owner = User {
        id: row.token.user_id,
        username: row.token.username.clone(),
        role: row.owner_role.parse()?,
        disabled: row.disabled,
        created_at: row.owner_created_at,
        updated_at: row.owner_updated_at,
        last_login_at: row.last_login_at,
    };
    Ok(Some((row.token.try_into()?, owner)))
}

/// Tokens newest first; `user_id = None` lists everyone's (admins).
pub async fn list_tokens(
    db: &PgPool,
    user_id: Option<Uuid>,
    page: &PageRequest<(DateTime<Utc>, Uuid)>,
) -> Result<Page<ApiToken>, AuthError> {
    let sql = format!(
        "select {TOKEN_COLUMNS} from api_token t join app_user u using (user_id) \
         where ($1::uuid is null or t.user_id = $1) \
           and ($2::timestamptz is null or (t.created_at, t.api_token_id) < ($2, $3)) \
         order by t.created_at desc, t.api_token_id desc limit $4"
    );
    let (after_at, after_id) = page.after.map_or((None, None), |(a, i)| (Some(a), Some(i)));
    let rows = sqlx::query_as::<_, TokenRow>(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(after_at)
        .bind(after_id)
        .bind(page.fetch_limit())
        .fetch_all(db)
        .await?;
    let tokens = rows
        .into_iter()
        .map(ApiToken::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page.finish(tokens, |t| (t.created_at, t.id)))
}

pub async fn token_by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<ApiToken>, AuthError> {
    let sql = format!(
        "select {TOKEN_COLUMNS} from api_token t join app_user u using (user_id) where t.api_token_id = $1"
    );
    sqlx::query_as::<_, TokenRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(ApiToken::try_from)
        .transpose()
}

pub async fn revoke_token(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), AuthError> {
    sqlx::query(
        "update api_token set revoked_at = coalesce(revoked_at, now()) where api_token_id = $1",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}
