//! Cursor pagination shared by every list: opaque cursors, bounded limits, one page shape.
//!
//! A cursor is the sort key of the last row of a page, encoded as URL-safe base64 JSON, so lists
//! stay stable while rows are inserted and cost the same at any depth (keyset pagination).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// `limit` and `cursor` query parameters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page (1 to 500, default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of items and the cursor of the next page (`null` on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PageError {
    #[error("limit must be between 1 and {MAX_LIMIT}")]
    Limit,
    #[error("cursor is malformed or belongs to another list")]
    Cursor,
}

impl PageError {
    /// The query parameter at fault.
    pub fn field(&self) -> &'static str {
        match self {
            PageError::Limit => "limit",
            PageError::Cursor => "cursor",
        }
    }
}

/// A validated page request: the limit and the decoded position after which to start.
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub limit: u32,
    pub after: Option<K>,
}

impl PageParams {
    /// Validates the limit and decodes the cursor into the list's key type.
    pub fn parse<K: DeserializeOwned>(&self) -> Result<PageRequest<K>, PageError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(PageError::Limit);
        }
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => Some(decode_cursor(c)?),
        };
        Ok(PageRequest { limit, after })
    }
}

impl<K> PageRequest<K> {
    /// Rows to fetch: one more than the limit tells whether another page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Trims the extra row and builds the next cursor from the last item kept.
    pub fn finish<T, F>(&self, mut rows: Vec<T>, key: F) -> Page<T>
    where
        F: Fn(&T) -> K,
        K: Serialize,
    {
        let limit = self.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("cursor keys serialize"))
}

fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> Result<K, PageError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('='))
        .map_err(|_| PageError::Cursor)?;
    serde_json::from_slice(&bytes).map_err(|_| PageError::Cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let req: PageRequest<(String, i64)> = PageParams {
            limit: Some(2),
            cursor: None,
        }
        .parse()
        .unwrap();
        let page = req.finish(vec![1, 2, 3], |n| (format!("k{n}"), i64::from(*n)));
        assert_eq!(page.items, vec![1, 2]);
        let next = page.next_cursor.unwrap();
        let again: PageRequest<(String, i64)> = PageParams {
            limit: Some(2),
            cursor: Some(next),
        }
        .parse()
        .unwrap();
        assert_eq!(again.after, Some(("k2".to_owned(), 2)));
        let bad = PageParams {
            limit: None,
            cursor: Some("!!not-base64".into()),
        };
        assert_eq!(bad.parse::<i64>().unwrap_err(), PageError::Cursor);
        let wrong_type = PageParams {
            limit: None,
            cursor: Some(encode_cursor(&"text")),
        };
        assert_eq!(wrong_type.parse::<i64>().unwrap_err(), PageError::Cursor);
    }

    #[test]
    fn limits_outside_the_range_are_refused_and_the_last_page_has_no_cursor() {
        for bad in [0, MAX_LIMIT + 1] {
            let p = PageParams {
                limit: Some(bad),
                cursor: None,
            };
            assert_eq!(p.parse::<i64>().unwrap_err(), PageError::Limit);
        }
        let req: PageRequest<i64> = PageParams::default().parse().unwrap();
        assert!(req.finish(vec![1i64], |n| *n).next_cursor.is_none());
    }
}
