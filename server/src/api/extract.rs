//! Extractors that reject bad input in the one error shape, naming the field and the reason:
//! JSON bodies, query strings, path parameters, and the authenticated caller.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::AppState;
use crate::audit::Actor;
use crate::auth::service::ClientInfo;
use crate::auth::{AuthError, Principal};

/// A JSON body: 415 without a JSON content type, 400 for malformed JSON, 422 naming the field for
/// wrong types, missing or unknown fields, 413 past the body limit.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| {
                m.type_() == "application"
                    && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            )
            .with_field("content-type"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    e.body_text(),
                )
                .with_field("body")
            } else {
                ApiError::bad_request(Some("body".into()), e.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// An optional JSON body: a request with no body (and no content type) is `None`; anything
/// else is parsed like [`ApiJson`].
impl<S, T> axum::extract::OptionalFromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        let no_type = req.headers().get(header::CONTENT_TYPE).is_none();
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.trim() == "0");
        if no_type && empty && !req.headers().contains_key(header::TRANSFER_ENCODING) {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// Parses JSON, naming the failing field with its dotted path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let field = (path != ".").then_some(path);
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    format!("malformed JSON: {inner}"),
                )
            }
            _ => {
                let message = clean_serde_message(&inner.to_string());
                // serde reports a missing or unknown key at its parent's path; name the key itself.
                let named = (message.starts_with("missing field")
                    || message.starts_with("unknown field"))
                .then(|| field_from_message(&message))
                .flatten();
                let field = match (field, named) {
                    // Depending on serde's features the path may already end with the key.
                    (Some(path), Some(key))
                        if message.starts_with("unknown field")
                            && (path == key || path.ends_with(&format!(".{key}"))) =>
                    {
                        Some(path)
                    }
                    (Some(parent), Some(key)) => Some(format!("{parent}.{key}")),
                    (None, Some(key)) => Some(key),
                    (parent, None) => parent,
                };
                let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", message);
                e.field = field;
                e
            }
        }
    })
}

/// serde's "missing field `x`" / "unknown field `x`" name the field inside the message.
fn field_from_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

fn clean_serde_message(m: &str) -> String {
    // Drop serde_json's " at line 1 column 12" suffix; the field is reported separately.
    match m.find(" at line ") {
        Some(i) => m[..i].to_owned(),
        None => m.to_owned(),
    }
}

/// Largest single field of a multipart form, in bytes (a kubeconfig is at most 1 MiB).
pub const MAX_FORM_FIELD_BYTES: usize = 1024 * 1024;

/// One field of a multipart form.
pub struct FormField {
    pub name: String,
    pub value: Bytes,
}

/// A `multipart/form-data` body read strictly: 415 for another content type, 400 for a malformed
/// body, 413 naming the field when one field exceeds [`MAX_FORM_FIELD_BYTES`] (or the body limit).
/// Which fields are allowed is the handler's business.
pub struct ApiMultipart(pub Vec<FormField>);

impl<S> FromRequest<S> for ApiMultipart
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_multipart(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: multipart/form-data",
            )
            .with_field("content-type"));
        }
        let mut form = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(Some("body".into()), e.body_text()))?;
        let too_large = |field: &str| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("form field {field} is larger than {MAX_FORM_FIELD_BYTES} bytes"),
            )
            .with_field(field)
        };
        let mut fields = Vec::new();
        // A field over the cap is answered with 413 once the rest of the body (bounded by the
        // body limit) is read and dropped: a client still sending would otherwise see its
        // connection reset instead of the answer.
        let mut oversized: Option<String> = None;
        loop {
            let next = form
                .next_field()
                .await
                .map_err(|e| multipart_error(&e, "body"))?;
            let Some(mut field) = next else { break };
            let name = field.name().unwrap_or_default().to_owned();
            let mut value = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| multipart_error(&e, &name))?
            {
                if oversized.is_some() {
                    continue;
                }
                if value.len() + chunk.len() > MAX_FORM_FIELD_BYTES {
                    oversized = Some(name.clone());
                    value = Vec::new();
                    continue;
                }
                value.extend_from_slice(&chunk);
            }
            if oversized.is_some() {
                continue;
            }
            if fields.len() >= 256 {
                return Err(ApiError::bad_request(
                    Some("body".into()),
                    "too many form fields",
                ));
            }
            fields.push(FormField {
                name,
                value: Bytes::from(value),
            });
        }
        if let Some(name) = oversized {
            return Err(too_large(&name));
        }
        Ok(ApiMultipart(fields))
    }
}

fn multipart_error(e: &axum::extract::multipart::MultipartError, field: &str) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large",
        )
        .with_field(field)
    } else {
        ApiError::bad_request(
            Some(field.to_owned()),
            format!("malformed multipart body: {}", e.body_text()),
        )
    }
}

/// Whether the request's content type is `multipart/form-data`.
pub fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.type_() == "multipart" && m.subtype() == "form-data")
}

/// A query string parsed strictly: unknown parameters and bad values are 400s naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                let field = if path == "." {
                    field_from_message(&message)
                } else {
                    Some(path)
                };
                ApiError::bad_request(field, format!("invalid query parameter: {message}"))
            })
    }
}

/// A path parameter; a malformed id is a 400 naming the parameter.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::bad_request(Some("id".into()), e.body_text()))
    }
}

/// Where the request came from: the socket peer, or `X-Forwarded-For` when configured to trust it.
pub fn client_info(parts: &Parts, trust_forwarded_for: bool) -> ClientInfo {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let forwarded = trust_forwarded_for
        .then(|| parts.headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    ClientInfo {
        addr: forwarded.or(peer),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// The authenticated caller and where they called from.
pub struct Caller {
    pub principal: Principal,
    pub client: ClientInfo,
}

impl Caller {
    /// The audit actor for this request.
    pub fn actor(&self) -> Actor {
        Actor::from_principal(&self.principal, self.client.addr.map(|a| a.to_string()))
    }
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::MissingCredentials)?;
        let principal = state.auth.authenticate(bearer).await?;
        let client = client_info(parts, state.config.trust_forwarded_for);
        Ok(Caller { principal, client })
    }
}

/// The client address and user agent, for unauthenticated routes such as login.
pub struct Client(pub ClientInfo);

impl<S> FromRequestParts<S> for Client
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        Ok(Client(client_info(parts, state.config.trust_forwarded_for)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Inner,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn json_errors_name_the_field_and_pick_the_status() {
        let e = parse_json::<Body>(b"{\"name\": 1}").unwrap_err();
        assert_eq!(
            (e.status, e.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("name"))
        );
        let e = parse_json::<Body>(br#"{"name":"a","inner":{"count":"x"}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.count"));
        let e = parse_json::<Body>(br#"{"name":"a"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner"));
        let e = parse_json::<Body>(br#"{"name":"a","inner":{"count":1},"extra":1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("extra"));
        let e = parse_json::<Body>(br#"{"name":"a","inner":{}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.count"));
        let e = parse_json::<Body>(br#"{"name":"a","inner":{"count":1,"x":2}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.x"));
        let e = parse_json::<Body>(b"{\"name\": ").unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "malformed_json")
        );
    }
}
