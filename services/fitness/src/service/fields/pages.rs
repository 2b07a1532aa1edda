//! Page requests of the list RPCs: sizes, tokens bound to method, caller and filters,
//! keyset cursors, and the user + time range lists of progress logs and measurements.

use chrono::{DateTime, Utc};
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, Key, PageScope, PageTokens};
use tribe_kit::{ApiError, Violations};
use tribe_proto::fitness::v1 as pb;
use tribe_proto::r#type::v1::TimeRange;
use uuid::Uuid;

use super::required_id;
use crate::convert::from_timestamp;
use crate::service::FitnessService;
use crate::store::window::UserWindow;

/// A token whose keys do not fit the list it was presented to.
pub(crate) fn bad_token() -> ApiError {
    ApiError::invalid_field("page_token", "malformed page token")
}

/// The page size of a list request (0 = default, capped); a negative one is recorded in
/// `v` and the default returned.
pub(crate) fn page_size(v: &mut Violations, requested: i32) -> u32 {
    v.check(
        "page_size",
        page::page_size(requested).map_err(|_| "must not be negative"),
    )
    .unwrap_or(page::DEFAULT_PAGE_SIZE)
}

/// One page of a list: its size and the scope its tokens are bound to.
pub(crate) struct Pager<'a> {
    tokens: &'a PageTokens,
    method: &'a str,
    subject: &'a str,
    filters: Vec<u8>,
    limit: u32,
}

/// A list request of one user's records over a time range.
pub(crate) trait WindowRequest {
    /// `user_id`, `time_range`, `page_size` and `page_token`.
    fn parts(&self) -> (&str, Option<&TimeRange>, i32, &str);
}

macro_rules! window_requests {
    ($($request:ty),+) => {$(
        impl WindowRequest for $request {
            fn parts(&self) -> (&str, Option<&TimeRange>, i32, &str) {
                (&self.user_id, self.time_range.as_ref(), self.page_size, &self.page_token)
            }
        }
    )+};
}

window_requests!(pb::ListUserProgressRequest, pb::ListBodyMeasurementsRequest);

impl FitnessService {
    /// The page of `caller`'s call of `method`: `limit` rows, tokens bound to `filters`.
    pub(crate) fn pager<'a>(
        &'a self,
        caller: &'a UserPrincipal,
        method: &'a str,
        limit: u32,
        filters: FilterHash,
    ) -> Pager<'a> {
        Pager {
            tokens: &self.pages,
            method,
            subject: caller.subject(),
            filters: filters.finish(),
            limit,
        }
    }

    /// The page of a list of one user's records over a time range: `user_id`,
    /// `time_range` and `page_size` checked together, the reader authorized (the owner,
    /// an admin or an ACTIVE coach), the token bound to the user and the range.
    pub(crate) async fn user_window<'a>(
        &'a self,
        caller: &'a UserPrincipal,
        method: &'a str,
        req: &impl WindowRequest,
    ) -> Result<(Pager<'a>, UserWindow), ApiError> {
        let (user_id, range, requested, token) = req.parts();
        let mut v = Violations::new();
        let user = required_id(&mut v, "user_id", user_id);
        let (from, to) = time_range(&mut v, "time_range", range);
        let limit = page_size(&mut v, requested);
        v.finish()?;
        let user = user.ok_or_else(|| ApiError::invalid_field("user_id", "is required"))?;
        self.authorize_progress_read(caller, user).await?;
        let micros = |at: Option<DateTime<Utc>>| {
            at.map(|a| a.timestamp_micros().to_be_bytes().to_vec())
                .unwrap_or_default()
        };
        let filters = FilterHash::new()
            .add("user_id", user.as_bytes())
            .add("from", micros(from))
            .add("to", micros(to));
        let pager = self.pager(caller, method, limit, filters);
        let window = UserWindow {
            user,
            from,
            to,
            after: pager.after_time_id(token)?,
            limit: pager.fetch(),
        };
        Ok((pager, window))
    }
}

impl Pager<'_> {
    fn scope(&self) -> PageScope<'_> {
        PageScope {
            method: self.method,
            subject_id: self.subject,
            filter_hash: &self.filters,
        }
    }

    /// The rows of a full page.
    pub(crate) fn limit(&self) -> usize {
        self.limit as usize
    }

    /// The rows to fetch: one more than a page, to know whether another follows.
    pub(crate) fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// The keyset position `token` resumes at; `None` on the first page. A forged token,
    /// or one of another method, caller or filters, is INVALID_ARGUMENT.
    pub(crate) fn keys(&self, token: &str) -> Result<Option<Vec<Key>>, ApiError> {
        self.tokens.decode(self.scope(), token)
    }

    /// The (time, id) position `token` resumes at.
    pub(crate) fn after_time_id(
        &self,
        token: &str,
    ) -> Result<Option<(DateTime<Utc>, Uuid)>, ApiError> {
        page::time_id_cursor(self.keys(token)?)
    }

    /// Trims `rows` (fetched with [`Pager::fetch`]) to the page and returns the next
    /// page's token, keyed by the last row kept; "" after the last page.
    pub(crate) fn next_token<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> Vec<Key>) -> String {
        self.tokens
            .next_token(self.scope(), rows, self.limit(), key)
    }
}

/// The position of a list ordered by a score, then id.
pub(crate) fn score_id_keys(score: f64, id: Uuid) -> Vec<Key> {
    vec![Key::Float(score), Key::Str(id.to_string())]
}

/// Reads back a position written by [`score_id_keys`].
pub(crate) fn score_id_cursor(keys: Option<Vec<Key>>) -> Result<Option<(f64, Uuid)>, ApiError> {
    match keys.as_deref() {
        None => Ok(None),
        Some([Key::Float(score), Key::Str(id)]) => Ok(Some((
            *score,
            Uuid::parse_str(id).map_err(|_| bad_token())?,
        ))),
        Some(_) => Err(bad_token()),
    }
}

/// The position of a list ordered by a score, a time, then id.
pub(crate) fn score_time_id_keys(score: f64, at: DateTime<Utc>, id: Uuid) -> Vec<Key> {
    vec![
        Key::Float(score),
        Key::Int(at.timestamp_micros()),
        Key::Str(id.to_string()),
    ]
}

/// Reads back a position written by [`score_time_id_keys`].
pub(crate) fn score_time_id_cursor(
    keys: Option<Vec<Key>>,
) -> Result<Option<(f64, DateTime<Utc>, Uuid)>, ApiError> {
    match keys.as_deref() {
        None => Ok(None),
        Some([Key::Float(score), Key::Int(micros), Key::Str(id)]) => Ok(Some((
            *score,
            DateTime::from_timestamp_micros(*micros).ok_or_else(bad_token)?,
            Uuid::parse_str(id).map_err(|_| bad_token())?,
        ))),
        Some(_) => Err(bad_token()),
    }
}

/// The bounds of an optional time range filter; the end must be after the start.
fn time_range(
    v: &mut Violations,
    field: &str,
    range: Option<&TimeRange>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let Some(range) = range else {
        return (None, None);
    };
    let mut bound = |name: &str, ts: Option<&prost_types::Timestamp>| {
        let at = from_timestamp(ts?);
        if at.is_none() {
            v.add(format!("{field}.{name}"), "is not a valid time");
        }
        at
    };
    let start = bound("start_time", range.start_time.as_ref());
    let end = bound("end_time", range.end_time.as_ref());
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        v.add(format!("{field}.end_time"), "must be after start_time");
    }
    (start, end)
}
