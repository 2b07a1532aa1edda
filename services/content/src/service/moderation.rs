//! Reports by users and moderation by admins.

use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::content::v1 as pb;
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use super::posts::id_cursor;
use super::{ContentService, emit, post_not_found};
use crate::convert;
use crate::domain::{ModerationState, ReportStatus, Viewer};
use crate::limits::Action;
use crate::store::moderation::{self, LogEntry, NewReport, ReportFilter, ReportRow};
use crate::store::posts;

const LIST_REPORTS: &str = "/trainertribe.content.v1.ContentService/ListPostReports";

fn report(r: ReportRow, reporter: Option<tribe_proto::r#type::v1::UserSummary>) -> pb::PostReport {
    let ReportRow {
        id,
        post_id,
        reporter_id: _,
        reason,
        details,
        status,
        created_at,
        resolved_at,
    } = r;
    pb::PostReport {
        report_id: id.to_string(),
        post_id: post_id.to_string(),
        reporter,
        reason: i32::from(reason),
        details,
        status: status.number(),
        create_time: convert::timestamp(created_at),
        resolve_time: resolved_at.and_then(convert::timestamp),
    }
}

impl ContentService {
    pub async fn report_post(
        &self,
        caller: &UserPrincipal,
        req: pb::ReportPostRequest,
    ) -> Result<pb::ReportPostResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let mut v = Violations::new();
        let post_id = v.check("post_id", ids::parse_id("post_id", &req.post_id));
        let reason = match pb::ReportReason::try_from(req.reason) {
            Ok(pb::ReportReason::Unspecified) | Err(_) => {
                v.add("reason", "is required");
                pb::ReportReason::Unspecified
            }
            Ok(r) => r,
        };
        let details = req.details.trim();
        if details.chars().count() > 1000 {
            v.add("details", "must be at most 1000 characters");
        } else if reason == pb::ReportReason::Other && details.is_empty() {
            v.add("details", "is required when the reason is OTHER");
        }
        v.finish()?;
        let post_id = post_id.ok_or_else(|| ApiError::invalid_field("post_id", "is required"))?;
        let mut tx = self.pool.begin().await?;
        // Admins may see everything, but reporting follows what a user can see.
        let as_user = Viewer {
            admin: false,
            ..viewer
        };
        let post = posts::visible(&mut tx, &as_user, &[post_id])
            .await?
            .pop()
            .ok_or_else(post_not_found)?;
        if post.author_id == viewer.id {
            return Err(ApiError::invalid_reason(
                "CANNOT_REPORT_OWN_POST",
                "post_id",
                "you cannot report your own post",
            ));
        }
        self.limits.hit(Action::Report, caller.subject()).await?;
        let id = ids::new_id();
        let inserted = moderation::insert_report(
            &mut tx,
            &NewReport {
                id,
                post_id,
                reporter_id: viewer.id,
                reason: reason as i16,
                details,
            },
        )
        .await?;
        if !inserted {
            return Err(ApiError::already_exists(
                "ALREADY_REPORTED",
                "your earlier report of this post is still open",
            ));
        }
        emit(
            &mut tx,
            post_id,
            viewer.id,
            Payload::PostReported(events::PostReported {
                report_id: id.to_string(),
                post_id: post_id.to_string(),
                author_id: post.author_id.to_string(),
                reporter_id: viewer.id.to_string(),
                reason: reason as i32,
            }),
        )
        .await?;
        let row = moderation::report(&mut tx, id).await?;
        tx.commit().await?;
        Ok(pb::ReportPostResponse {
            report: Some(report(row, None)),
        })
    }

    pub async fn list_post_reports(
        &self,
        caller: &UserPrincipal,
        req: pb::ListPostReportsRequest,
    ) -> Result<pb::ListPostReportsResponse, ApiError> {
        let viewer = Viewer::of(caller);
        if !viewer.admin {
            return Err(ApiError::permission_denied("admins only"));
        }
        let mut v = Violations::new();
        // UNSPECIFIED lists every status.
        let status = match pb::ReportStatus::try_from(req.status) {
            Ok(s) => ReportStatus::from_proto(s as i32),
            Err(_) => {
                v.add("status", "unknown status");
                None
            }
        };
        let reason = match pb::ReportReason::try_from(req.reason) {
            Ok(r) => r as i16,
            Err(_) => {
                v.add("reason", "unknown reason");
                0
            }
        };
        let post_id = if req.post_id.is_empty() {
            None
        } else {
            v.check("post_id", ids::parse_id("post_id", &req.post_id))
        };
        let limit = v.check("page_size", page::page_size(req.page_size));
        v.finish()?;
        let limit = limit.unwrap_or(page::DEFAULT_PAGE_SIZE) as usize;
        let hash = FilterHash::new()
            .add("status", status.map_or(0, i16::from).to_be_bytes())
            .add("reason", reason.to_be_bytes())
            .add("post_id", post_id.unwrap_or_default().as_bytes())
            .finish();
        let scope = PageScope {
            method: LIST_REPORTS,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = id_cursor(self.pages.decode(scope, &req.page_token)?)?;
        let mut conn = self.pool.acquire().await?;
        let filter = ReportFilter {
            status,
            reason,
            post_id,
        };
        let mut rows = moderation::reports(&mut conn, filter, after, limit as i64 + 1).await?;
        let token = self.pages.next_token(scope, &mut rows, limit, |r| {
            vec![Key::Str(r.id.to_string())]
        });
        let mut post_ids: Vec<Uuid> = Vec::new();
        for r in &rows {
            if !post_ids.contains(&r.post_id) {
                post_ids.push(r.post_id);
            }
        }
        let post_rows = self
            .hydrate(
                &mut conn,
                &Viewer {
                    admin: true,
                    privileged: true,
                    premium: true,
                    ..viewer
                },
                &post_ids,
            )
            .await?;
        drop(conn);
        let reporters = self.authors(rows.iter().map(|r| r.reporter_id)).await;
        let reports = rows
            .into_iter()
            .map(|r| {
                let who = reporters
                    .get(&r.reporter_id)
                    .cloned()
                    .unwrap_or_else(|| convert::bare_summary(r.reporter_id));
                report(r, Some(who))
            })
            .collect();
        Ok(pb::ListPostReportsResponse {
            reports,
            next_page_token: token,
            posts: self.render(&viewer, post_rows).await,
        })
    }

    pub async fn moderate_post(
        &self,
        caller: &UserPrincipal,
        req: pb::ModeratePostRequest,
    ) -> Result<pb::ModeratePostResponse, ApiError> {
        let viewer = Viewer::of(caller);
        if !viewer.admin {
            return Err(ApiError::permission_denied("admins only"));
        }
        let mut v = Violations::new();
        let post_id = v.check("post_id", ids::parse_id("post_id", &req.post_id));
        // What the action makes of the post, and of the reports it closes.
        let outcome = match pb::ModerationAction::try_from(req.action) {
            Ok(pb::ModerationAction::Hide) => Some((
                pb::ModerationAction::Hide,
                ModerationState::Hidden,
                ReportStatus::Actioned,
            )),
            Ok(pb::ModerationAction::Remove) => Some((
                pb::ModerationAction::Remove,
                ModerationState::Removed,
                ReportStatus::Actioned,
            )),
            Ok(pb::ModerationAction::Restore) => Some((
                pb::ModerationAction::Restore,
                ModerationState::Visible,
                ReportStatus::Dismissed,
            )),
            _ => {
                v.add("action", "is required");
                None
            }
        };
        let reason = req.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            v.add("reason", "must be 1-500 characters");
        }
        v.finish()?;
        let (Some(post_id), Some((action, new_state, report_status))) = (post_id, outcome) else {
            return Err(ApiError::invalid_field("post_id", "is required"));
        };
        let mut tx = self.pool.begin().await?;
        let post = posts::lock(&mut tx, viewer.id, post_id)
            .await?
            .ok_or_else(post_not_found)?;
        moderation::set_state(&mut tx, post_id, new_state, reason).await?;
        let resolved = moderation::resolve_reports(&mut tx, post_id, report_status).await?;
        moderation::log(
            &mut tx,
            &LogEntry {
                id: ids::new_id(),
                post_id,
                moderator_id: viewer.id,
                action: action as i16,
                previous_state: post.moderation,
                new_state,
                reason,
            },
        )
        .await?;
        emit(
            &mut tx,
            post_id,
            viewer.id,
            Payload::PostModerated(events::PostModerated {
                post_id: post_id.to_string(),
                author_id: post.author_id.to_string(),
                moderator_id: viewer.id.to_string(),
                action: action as i32,
                previous_state: post.moderation.number(),
                new_state: new_state.number(),
                resolved_report_count: resolved as i32,
            }),
        )
        .await?;
        let row = posts::any(&mut tx, viewer.id, post_id)
            .await?
            .ok_or_else(post_not_found)?;
        tx.commit().await?;
        // The body does not hold the moderation state (the read rules take it from the row
        // on every read), so this only keeps the cache from holding what nobody may read.
        self.cache.forget_post(post_id).await;
        Ok(pb::ModeratePostResponse {
            post: Some(self.render_one(&viewer, row).await),
        })
    }
}
