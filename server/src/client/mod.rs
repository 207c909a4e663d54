//! A thin client of Berth's REST API for the `berth` command line: login, environments, and a
//! generic call used by the stack commands (`stack_cli.rs`).
//!
//! Knows only HTTP and the API's JSON shapes; the token is kept in a 0600 credentials file
//! (`~/.config/berth/credentials`) or given as `BERTH_TOKEN`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::environments::Environment;

mod format;

pub use format::{ago, environment_details, environments_table, table};

/// An error answered by the server (its JSON error shape), or a transport failure.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{}{message} ({status} {code})", field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Api {
        status: u16,
        code: String,
        field: Option<String>,
        message: String,
    },
    #[error("cannot reach Berth at {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{0}")]
    Local(String),
}

/// What `berth login` stores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub server: String,
    pub token: String,
}

/// The default credentials file: `$XDG_CONFIG_HOME/berth/credentials` or
/// `~/.config/berth/credentials`.
pub fn default_credentials_path() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("berth").join("credentials"))
}

pub fn load_credentials(path: &Path) -> Result<Option<Credentials>, ClientError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ClientError::Local(format!("{} is malformed: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ClientError::Local(format!(
            "reading {}: {e}",
            path.display()
        ))),
    }
}

/// Writes the credentials file with mode 0600 (its directory 0700).
pub fn save_credentials(path: &Path, c: &Credentials) -> Result<(), ClientError> {
    let local = |e: std::io::Error| ClientError::Local(format!("writing {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(local)?;
    }
    let text = serde_json::to_vec_pretty(c).expect("credentials serialize");
    crate::crypto::write_private_file(path, &text).map_err(local)
}

/// An API client for one server.
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// A kubeconfig upload for `berth env add`.
pub struct AddEnvironment<'a> {
    pub kubeconfig: String,
    pub file_name: String,
    pub name: &'a str,
    pub context: Option<&'a str>,
    pub tags: &'a [String],
    pub default_namespace: Option<&'a str>,
    pub verify: bool,
}

pub fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Client {
    pub fn new(server: &str, token: Option<String>) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| ClientError::Local(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: server.trim_end_matches('/').to_owned(),
            token,
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Option<Value>, ClientError> {
        let res = req.send().await.map_err(|source| ClientError::Transport {
            url: self.base.clone(),
            source,
        })?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(|source| ClientError::Transport {
            url: self.base.clone(),
            source,
        })?;
        let body: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return Ok(body);
        }
        let err = body.as_ref().map(|b| &b["error"]);
        let text = |k: &str| err.and_then(|e| e[k].as_str()).map(str::to_owned);
        Err(ClientError::Api {
            status: status.as_u16(),
            code: text("code").unwrap_or_else(|| "error".into()),
            field: text("field"),
            message: text("message")
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect()),
        })
    }

    fn parse<T: serde::de::DeserializeOwned>(v: Option<Value>) -> Result<T, ClientError> {
        serde_json::from_value(v.unwrap_or(Value::Null))
            .map_err(|e| ClientError::Local(format!("unexpected answer from the server: {e}")))
    }

    /// Logs in; returns the session token.
    pub async fn login(&self, username: &str, password: &str) -> Result<String, ClientError> {
        let body = self
            .send(
                self.request(reqwest::Method::POST, "/auth/login")
                    .json(&json!({"username": username, "password": password})),
            )
            .await?;
        body.as_ref()
            .and_then(|b| b["token"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Local("the login answer has no token".into()))
    }

    /// Registers an environment from a kubeconfig file (multipart upload).
    pub async fn add_environment(
        &self,
        a: &AddEnvironment<'_>,
    ) -> Result<Vec<Environment>, ClientError> {
        let mut form = reqwest::multipart::Form::new()
            .part(
                "kubeconfig",
                reqwest::multipart::Part::text(a.kubeconfig.clone()).file_name(a.file_name.clone()),
            )
            .text("name", a.name.to_owned())
            .text("verify", a.verify.to_string());
        if let Some(c) = a.context {
            form = form.text("context", c.to_owned());
        }
        if let Some(ns) = a.default_namespace {
            form = form.text("default_namespace", ns.to_owned());
        }
        for t in a.tags {
            form = form.text("tag", t.clone());
        }
        let body = self
            .send(
                self.request(reqwest::Method::POST, "/environments")
                    .multipart(form),
            )
            .await?;
        #[derive(Deserialize)]
        struct Registered {
            items: Vec<Environment>,
        }
        Ok(Self::parse::<Registered>(body)?.items)
    }

    /// Every environment matching the filters (all pages).
    pub async fn list_environments(
        &self,
        selector: Option<&str>,
        status: Option<&str>,
        search: Option<&str>,
    ) -> Result<Vec<Environment>, ClientError> {
        #[derive(Deserialize)]
        struct PageOf {
            items: Vec<Environment>,
            next_cursor: Option<String>,
        }
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query: Vec<(&str, String)> = vec![("limit", "500".into())];
            for (k, v) in [
                ("selector", selector),
                ("status", status),
                ("search", search),
            ] {
                if let Some(v) = v {
                    query.push((k, v.to_owned()));
                }
            }
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let body = self
                .send(
                    self.request(reqwest::Method::GET, "/environments")
                        .query(&query),
                )
                .await?;
            let page: PageOf = Self::parse(body)?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    pub async fn environment(&self, name: &str) -> Result<Environment, ClientError> {
        let path = format!("/environments/{}", path_segment(name));
        Self::parse(self.send(self.request(reqwest::Method::GET, &path)).await?)
    }

    /// Any API call: `path` is below `/api/v1`; answers the JSON body (`None` when empty).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Option<Value>, ClientError> {
        let mut req = self.request(method, path).query(query);
        if let Some(b) = body {
            req = req.json(b);
        }
        self.send(req).await
    }

    /// Every item of a paginated list (following `next_cursor`), up to `max` items.
    pub async fn list_all(
        &self,
        path: &str,
        query: &[(&str, String)],
        max: usize,
    ) -> Result<Vec<Value>, ClientError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("limit", "500".into()));
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let page = self
                .call(reqwest::Method::GET, path, &q, None)
                .await?
                .unwrap_or(Value::Null);
            if let Some(items) = page["items"].as_array() {
                out.extend(items.iter().cloned());
            }
            match page["next_cursor"].as_str() {
                Some(c) if out.len() < max => cursor = Some(c.to_owned()),
                _ => {
                    out.truncate(max);
                    return Ok(out);
                }
            }
        }
    }

    pub async fn delete_environment(&self, name: &str, force: bool) -> Result<(), ClientError> {
        let path = format!("/environments/{}", path_segment(name));
        let mut req = self.request(reqwest::Method::DELETE, &path);
        if force {
            req = req.query(&[("force", "true")]);
        }
        self.send(req).await.map(|_| ())
    }
}
