//! Checks of the plain fields of a repository (name, CA bundle, TLS flags) and how a parsed
//! schedule is stored on its row.

use chrono::Utc;

use super::RepositoryError;
use super::schedule::Schedule;
use super::store::RepositoryRow;
use super::url::UrlScheme;

pub(super) fn set_schedule(row: &mut RepositoryRow, schedule: &Schedule) {
    row.schedule_kind = schedule.kind().to_owned();
    row.interval_seconds = None;
    row.cron = None;
    row.time_zone = "UTC".into();
    match schedule {
        Schedule::Interval(d) => {
            row.interval_seconds = Some(i32::try_from(d.as_secs()).unwrap_or(i32::MAX));
        }
        Schedule::Cron { expr, tz } => {
            row.cron = Some(expr.clone());
            row.time_zone = tz.name().to_owned();
        }
        Schedule::Manual => {}
    }
    row.next_run_at = if row.paused {
        None
    } else {
        schedule.next_after(Utc::now())
    };
}

pub(super) fn parse_name(name: &str) -> Result<String, RepositoryError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(RepositoryError::invalid(
            "name",
            "must be 1 to 100 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(RepositoryError::invalid(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

pub(super) fn parse_ca_bundle(ca: Option<String>) -> Result<Option<String>, RepositoryError> {
    let Some(ca) = ca.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let certs = reqwest::Certificate::from_pem_bundle(ca.as_bytes()).map_err(|e| {
        RepositoryError::invalid("ca_bundle", format!("is not a PEM certificate bundle: {e}"))
    })?;
    if certs.is_empty() || !ca.contains("-----BEGIN CERTIFICATE-----") {
        return Err(RepositoryError::invalid(
            "ca_bundle",
            "holds no PEM certificate",
        ));
    }
    Ok(Some(ca + "\n"))
}

pub(super) fn check_tls_fields(
    scheme: UrlScheme,
    ca: Option<&String>,
    skip: bool,
) -> Result<(), RepositoryError> {
    if scheme != UrlScheme::Https && ca.is_some() {
        return Err(RepositoryError::invalid(
            "ca_bundle",
            "applies only to https:// URLs",
        ));
    }
    if scheme != UrlScheme::Https && skip {
        return Err(RepositoryError::invalid(
            "skip_tls_verify",
            "applies only to https:// URLs",
        ));
    }
    Ok(())
}
