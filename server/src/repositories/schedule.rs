//! Poll schedules: an interval, a cron expression (5 or 6 fields, in UTC or a chosen time zone,
//! DST-correct through croner + chrono-tz), or manual; next-run computation and failure backoff.
//!
//! Pure: no clock reads, no SQL. Callers pass `now`.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::{format_duration, parse_duration};

/// How often a repository is checked, as sent and shown by the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// `interval`, `cron` or `manual` (never polled; webhooks and "check now" only). Omitted: an
    /// interval (the server's default interval unless `interval` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// For `interval`: `30s`, `5m`, `1h`, `1h30m` (at least the server's minimum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// For `cron`: 5 fields (`min hour dom mon dow`) or 6 (`sec min hour dom mon dow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// For `cron`: an IANA time zone such as `Europe/Paris` (default `UTC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// A validated schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Interval(Duration),
    Cron { expr: String, tz: Tz },
    Manual,
}

/// Why a schedule was refused; `field` names the request field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScheduleError {
    pub field: &'static str,
    pub message: String,
}

fn err(field: &'static str, message: impl Into<String>) -> ScheduleError {
    ScheduleError {
        field,
        message: message.into(),
    }
}

/// Limits the operator configured.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleLimits {
    pub min_interval: Duration,
    pub default_interval: Duration,
}

impl Schedule {
    /// Validates an API schedule against the server's limits.
    pub fn parse(spec: &ScheduleSpec, limits: ScheduleLimits) -> Result<Self, ScheduleError> {
        let kind = spec.kind.as_deref().map(str::trim).unwrap_or_else(|| {
            if spec.cron.is_some() {
                "cron"
            } else {
                "interval"
            }
        });
        match kind {
            "interval" => {
                if spec.cron.is_some() || spec.time_zone.is_some() {
                    return Err(err(
                        "schedule.cron",
                        "an interval schedule takes no cron or time_zone",
                    ));
                }
                let every = match &spec.interval {
                    None => limits.default_interval,
                    Some(text) => parse_duration(text).map_err(|e| err("schedule.interval", e))?,
                };
                if every < limits.min_interval {
                    return Err(err(
                        "schedule.interval",
                        format!(
                            "must be at least {} (the server's minimum)",
                            format_duration(limits.min_interval)
                        ),
                    ));
                }
                if every > Duration::from_secs(366 * 86_400) {
                    return Err(err("schedule.interval", "must be at most a year"));
                }
                Ok(Schedule::Interval(every))
            }
            "cron" => {
                if spec.interval.is_some() {
                    return Err(err(
                        "schedule.interval",
                        "a cron schedule takes no interval",
                    ));
                }
                let expr = spec
                    .cron
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| err("schedule.cron", "a cron schedule needs `cron`"))?;
                let tz = match spec.time_zone.as_deref().map(str::trim) {
                    None | Some("") => Tz::UTC,
                    Some(name) => Tz::from_str(name).map_err(|_| {
                        err(
                            "schedule.time_zone",
                            format!(
                                "unknown time zone {name:?} (use an IANA name such as Europe/Paris)"
                            ),
                        )
                    })?,
                };
                let cron = parse_cron(expr)?;
                // The smallest gap between runs over the next few days must respect the minimum.
                let start = DateTime::<Utc>::from_timestamp(1_767_225_600, 0)
                    .expect("valid timestamp")
                    .with_timezone(&tz);
                let mut previous: Option<DateTime<Tz>> = None;
                for next in cron.iter_after(start).take(500) {
                    if let Some(p) = previous {
                        let gap = (next - p).to_std().unwrap_or_default();
                        if gap < limits.min_interval {
                            return Err(err(
                                "schedule.cron",
                                format!(
                                    "runs more often than the server's minimum of {}",
                                    format_duration(limits.min_interval)
                                ),
                            ));
                        }
                    }
                    previous = Some(next);
                }
                if previous.is_none() {
                    return Err(err("schedule.cron", "never runs"));
                }
                Ok(Schedule::Cron {
                    expr: expr.to_owned(),
                    tz,
                })
            }
            "manual" => {
                if spec.interval.is_some() || spec.cron.is_some() {
                    return Err(err(
                        "schedule.kind",
                        "a manual schedule takes no interval or cron",
                    ));
                }
                Ok(Schedule::Manual)
            }
            other => Err(err(
                "schedule.kind",
                format!("unknown kind {other:?} (use interval, cron or manual)"),
            )),
        }
    }

    /// Rebuilds a stored schedule (already validated when it was stored).
    pub fn from_stored(
        kind: &str,
        interval_seconds: Option<i32>,
        cron: Option<&str>,
        tz: &str,
    ) -> Self {
        match kind {
            "interval" => Schedule::Interval(Duration::from_secs(
                u64::try_from(interval_seconds.unwrap_or(300)).unwrap_or(300),
            )),
            "cron" => Schedule::Cron {
                expr: cron.unwrap_or("*/5 * * * *").to_owned(),
                tz: Tz::from_str(tz).unwrap_or(Tz::UTC),
            },
            _ => Schedule::Manual,
        }
    }

    /// The API form.
    pub fn to_spec(&self) -> ScheduleSpec {
        match self {
            Schedule::Interval(d) => ScheduleSpec {
                kind: Some("interval".into()),
                interval: Some(format_duration(*d)),
                ..ScheduleSpec::default()
            },
            Schedule::Cron { expr, tz } => ScheduleSpec {
                kind: Some("cron".into()),
                cron: Some(expr.clone()),
                time_zone: Some(tz.name().to_owned()),
                ..ScheduleSpec::default()
            },
            Schedule::Manual => ScheduleSpec {
                kind: Some("manual".into()),
                ..ScheduleSpec::default()
            },
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Schedule::Interval(_) => "interval",
            Schedule::Cron { .. } => "cron",
            Schedule::Manual => "manual",
        }
    }

    /// The next run strictly after `now`; `None` for manual schedules.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Interval(d) => Some(now + chrono::Duration::from_std(*d).ok()?),
            Schedule::Cron { expr, tz } => {
                let cron = parse_cron(expr).ok()?;
                cron.find_next_occurrence(&now.with_timezone(tz), false)
                    .ok()
                    .map(|t| t.with_timezone(&Utc))
            }
            Schedule::Manual => None,
        }
    }

    /// The next `count` runs after `now` (none for manual schedules), as a freshly saved schedule
    /// would run them: an interval counts from `now`, a cron follows its own clock.
    pub fn upcoming(&self, now: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut runs = Vec::with_capacity(count);
        let mut at = now;
        while runs.len() < count {
            let Some(next) = self.next_after(at) else {
                break;
            };
            runs.push(next);
            at = next;
        }
        runs
    }

    /// The schedule's period around `now`: the interval, or the gap between the next two cron runs.
    pub fn period(&self, now: DateTime<Utc>) -> Option<Duration> {
        match self {
            Schedule::Interval(d) => Some(*d),
            Schedule::Cron { .. } => {
                let first = self.next_after(now)?;
                let second = self.next_after(first)?;
                (second - first).to_std().ok()
            }
            Schedule::Manual => None,
        }
    }

    /// When to try again after `failures` consecutive failures (at least 1): the next scheduled run,
    /// pushed back exponentially, but never later than min(8 × period, 1 h) after `now` (and never
    /// before the next scheduled run).
    pub fn next_after_failure(&self, now: DateTime<Utc>, failures: u32) -> Option<DateTime<Utc>> {
        let next = self.next_after(now)?;
        let period = self.period(now)?;
        let delay = backoff(period, failures);
        let backed_off = now + chrono::Duration::from_std(delay).ok()?;
        Some(next.max(backed_off))
    }
}

/// Exponential backoff: period × 2^failures, capped at min(8 × period, 1 h), never below the period.
pub fn backoff(period: Duration, failures: u32) -> Duration {
    let cap = (period.saturating_mul(8)).min(Duration::from_secs(3600));
    let grown = period.saturating_mul(1u32 << failures.min(16));
    grown.min(cap).max(period)
}

/// Parses a 5- or 6-field cron expression (or an `@hourly`-style nickname).
pub fn parse_cron(expr: &str) -> Result<croner::Cron, ScheduleError> {
    let expr = expr.trim();
    if expr.eq_ignore_ascii_case("@reboot") {
        return Err(err("schedule.cron", "@reboot is not a schedule"));
    }
    if !expr.starts_with('@') {
        let fields = expr.split_whitespace().count();
        if !(5..=6).contains(&fields) {
            return Err(err(
                "schedule.cron",
                format!("expected 5 or 6 fields (sec min hour dom mon dow), got {fields}"),
            ));
        }
    }
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build()
        .parse(expr)
        .map_err(|e| err("schedule.cron", format!("invalid cron expression: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ScheduleLimits = ScheduleLimits {
        min_interval: Duration::from_secs(30),
        default_interval: Duration::from_secs(300),
    };

    fn spec(
        kind: Option<&str>,
        interval: Option<&str>,
        cron: Option<&str>,
        tz: Option<&str>,
    ) -> ScheduleSpec {
        ScheduleSpec {
            kind: kind.map(Into::into),
            interval: interval.map(Into::into),
            cron: cron.map(Into::into),
            time_zone: tz.map(Into::into),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn schedules_are_parsed_or_refused_naming_the_field() {
        let ok = [
            (
                spec(None, None, None, None),
                Schedule::Interval(Duration::from_secs(300)),
            ),
            (
                spec(None, Some("30s"), None, None),
                Schedule::Interval(Duration::from_secs(30)),
            ),
            (
                spec(Some("interval"), Some("1h"), None, None),
                Schedule::Interval(Duration::from_secs(3600)),
            ),
            (spec(Some("manual"), None, None, None), Schedule::Manual),
            (
                spec(None, None, Some("*/5 * * * *"), None),
                Schedule::Cron {
                    expr: "*/5 * * * *".into(),
                    tz: Tz::UTC,
                },
            ),
            (
                spec(
                    Some("cron"),
                    None,
                    Some("0 0 9 * * MON-FRI"),
                    Some("Europe/Paris"),
                ),
                Schedule::Cron {
                    expr: "0 0 9 * * MON-FRI".into(),
                    tz: Tz::Europe__Paris,
                },
            ),
        ];
        for (s, want) in ok {
            assert_eq!(Schedule::parse(&s, LIMITS).unwrap(), want, "{s:?}");
        }
        let bad = [
            (spec(None, Some("10s"), None, None), "schedule.interval"),
            (
                spec(None, Some("5 minutes"), None, None),
                "schedule.interval",
            ),
            (spec(Some("cron"), None, None, None), "schedule.cron"),
            (spec(None, None, Some("* * * * * *"), None), "schedule.cron"),
            (
                spec(None, None, Some("*/10 * * * * *"), None),
                "schedule.cron",
            ),
            (spec(None, None, Some("1 2 3"), None), "schedule.cron"),
            (
                spec(None, None, Some("0 0 0 1 1 * 2030"), None),
                "schedule.cron",
            ),
            (spec(None, None, Some("61 * * * *"), None), "schedule.cron"),
            (
                spec(None, None, Some("0 * * * *"), Some("Mars/Olympus")),
                "schedule.time_zone",
            ),
            (
                spec(Some("manual"), Some("5m"), None, None),
                "schedule.kind",
            ),
            (spec(Some("weekly"), None, None, None), "schedule.kind"),
            (
                spec(Some("interval"), Some("5m"), Some("* * * * *"), None),
                "schedule.cron",
            ),
        ];
        for (s, field) in bad {
            assert_eq!(
                Schedule::parse(&s, LIMITS).unwrap_err().field,
                field,
                "{s:?}"
            );
        }
    }

    #[test]
    fn next_runs_follow_the_interval_or_the_cron_expression() {
        let now = at("2026-06-01T10:00:07Z");
        let every = Schedule::Interval(Duration::from_secs(90));
        assert_eq!(every.next_after(now), Some(at("2026-06-01T10:01:37Z")));
        let five = Schedule::parse(&spec(None, None, Some("*/5 * * * *"), None), LIMITS).unwrap();
        assert_eq!(five.next_after(now), Some(at("2026-06-01T10:05:00Z")));
        let six = Schedule::parse(&spec(None, None, Some("30 */5 * * * *"), None), LIMITS).unwrap();
        assert_eq!(six.next_after(now), Some(at("2026-06-01T10:00:30Z")));
        assert_eq!(Schedule::Manual.next_after(now), None);
    }

    #[test]
    fn cron_in_a_time_zone_stays_on_local_time_across_dst_changes() {
        let nine = Schedule::parse(
            &spec(None, None, Some("0 9 * * *"), Some("Europe/Paris")),
            LIMITS,
        )
        .unwrap();
        // Winter (UTC+1), the day of the change (29 March 2026, UTC+2 from 02:00), and summer.
        let cases = [
            ("2026-03-28T09:00:00Z", "2026-03-29T07:00:00Z"),
            ("2026-03-27T12:00:00Z", "2026-03-28T08:00:00Z"),
            ("2026-10-24T08:00:00Z", "2026-10-25T08:00:00Z"),
            ("2026-10-23T12:00:00Z", "2026-10-24T07:00:00Z"),
        ];
        for (now, want) in cases {
            assert_eq!(nine.next_after(at(now)), Some(at(want)), "after {now}");
        }
        // 02:30 does not exist on 29 March in Paris: the run is not lost, and not doubled in
        // October when 02:30 happens twice.
        let half_two = Schedule::parse(
            &spec(None, None, Some("30 2 * * *"), Some("Europe/Paris")),
            LIMITS,
        )
        .unwrap();
        let spring = half_two.next_after(at("2026-03-28T02:00:00Z")).unwrap();
        assert!(
            spring > at("2026-03-28T23:00:00Z") && spring <= at("2026-03-30T00:30:00Z"),
            "{spring}"
        );
        let first = half_two.next_after(at("2026-10-24T12:00:00Z")).unwrap();
        let second = half_two.next_after(first).unwrap();
        assert!(
            second - first >= chrono::Duration::hours(23),
            "{first} then {second}"
        );
    }

    #[test]
    fn upcoming_runs_list_the_next_runs_in_order_and_none_for_manual() {
        let now = at("2026-06-01T10:00:07Z");
        let every = Schedule::Interval(Duration::from_secs(60));
        assert_eq!(
            every.upcoming(now, 3),
            vec![
                at("2026-06-01T10:01:07Z"),
                at("2026-06-01T10:02:07Z"),
                at("2026-06-01T10:03:07Z")
            ]
        );
        let hourly = Schedule::parse(
            &spec(None, None, Some("0 * * * *"), Some("Asia/Kolkata")),
            LIMITS,
        )
        .unwrap();
        // Kolkata is UTC+05:30: local full hours fall on UTC half hours.
        assert_eq!(
            hourly.upcoming(now, 2),
            vec![at("2026-06-01T10:30:00Z"), at("2026-06-01T11:30:00Z")]
        );
        assert!(Schedule::Manual.upcoming(now, 5).is_empty());
        assert!(every.upcoming(now, 0).is_empty());
    }

    #[test]
    fn failures_back_off_exponentially_up_to_eight_periods_or_an_hour() {
        let m = |s| Duration::from_secs(s);
        let cases = [
            (m(30), 1, m(60)),
            (m(30), 2, m(120)),
            (m(30), 3, m(240)),
            (m(30), 4, m(240)),
            (m(30), 30, m(240)),
            (m(600), 1, m(1200)),
            (m(600), 3, m(3600)),
            (m(3600), 5, m(3600)),
            (m(7200), 2, m(7200)),
        ];
        for (period, failures, want) in cases {
            assert_eq!(backoff(period, failures), want, "{period:?} x{failures}");
        }
        let now = at("2026-06-01T10:00:00Z");
        let every = Schedule::Interval(m(30));
        assert_eq!(
            every.next_after_failure(now, 3),
            Some(at("2026-06-01T10:04:00Z"))
        );
    }
}
