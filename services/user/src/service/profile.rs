//! Profiles and their parts (social links, specialties, achievements), and search.

use tribe_kit::auth::UserPrincipal;
use tribe_kit::mask::UpdateMask;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::page::{time_id_cursor, time_id_keys};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::user::v1 as pb;
use uuid::Uuid;

use super::accounts::unique_violation;
use super::{UserService, emit};
use crate::convert;
use crate::domain::{self, Handle};
use crate::store::{self, profile};

const PROFILE_PATHS: &[&str] = &[
    "handle",
    "display_name",
    "bio",
    "avatar_url",
    "cover_url",
    "location",
];
const MAX_SPECIALTIES: usize = 10;

/// Owner-only access to `user_id`; admins may read (`read_only`).
pub(super) fn owner(
    caller: &UserPrincipal,
    user_id: &str,
    read_only: bool,
) -> Result<Uuid, ApiError> {
    let target = ids::parse_id("user_id", user_id)?;
    if caller.user_id == target.to_string() || (read_only && caller.is_admin()) {
        Ok(target)
    } else {
        Err(ApiError::permission_denied(
            "you may only access your own account",
        ))
    }
}

impl UserService {
    pub(super) async fn profile_extras(
        &self,
        user: Uuid,
    ) -> Result<(Vec<profile::SpecialtyRow>, Vec<(String, String)>), ApiError> {
        let mut conn = self.pool.acquire().await?;
        Ok((
            profile::user_specialties(&mut conn, user).await?,
            profile::social_links(&mut conn, user).await?,
        ))
    }

    pub async fn get_user(
        &self,
        caller: &UserPrincipal,
        req: pb::GetUserRequest,
    ) -> Result<pb::GetUserResponse, ApiError> {
        let me = caller.id();
        let mut conn = self.pool.acquire().await?;
        let row = match req.lookup {
            Some(pb::get_user_request::Lookup::UserId(id)) => {
                store::user_by_id(&mut conn, ids::parse_id("user_id", &id)?).await?
            }
            Some(pb::get_user_request::Lookup::Handle(h)) => {
                let handle = Handle::parse(&h).map_err(|e| ApiError::invalid_field("handle", e))?;
                store::user_by_handle(&mut conn, handle.as_str()).await?
            }
            None => return Err(ApiError::invalid_field("lookup", "set user_id or handle")),
        };
        let row = row.ok_or_else(|| ApiError::not_found("user"))?;
        if store::is_blocked(&mut conn, row.id, me).await? {
            return Err(ApiError::not_found("user"));
        }
        drop(conn);
        let show_email = row.id == me || caller.is_admin();
        let (specialties, links) = self.profile_extras(row.id).await?;
        Ok(pb::GetUserResponse {
            user: Some(convert::user(row, specialties, links, show_email)),
        })
    }

    pub async fn update_user(
        &self,
        caller: &UserPrincipal,
        req: pb::UpdateUserRequest,
    ) -> Result<pb::UpdateUserResponse, ApiError> {
        let user = req
            .user
            .ok_or_else(|| ApiError::invalid_field("user", "is required"))?;
        let mask = UpdateMask::parse(req.update_mask.as_ref(), PROFILE_PATHS)?;
        let target = owner(caller, &user.user_id, false)?;

        let mut v = Violations::new();
        let handle = if mask.contains("handle") {
            v.check("user.handle", Handle::parse(&user.handle))
        } else {
            None
        };
        let name = if mask.contains("display_name") {
            v.check(
                "user.display_name",
                domain::display_name(&user.display_name),
            )
        } else {
            None
        };
        let bio = if mask.contains("bio") {
            v.check("user.bio", domain::bio(&user.bio))
        } else {
            None
        };
        let avatar = if mask.contains("avatar_url") {
            v.check("user.avatar_url", domain::https_url(&user.avatar_url, true))
        } else {
            None
        };
        let cover = if mask.contains("cover_url") {
            v.check("user.cover_url", domain::https_url(&user.cover_url, true))
        } else {
            None
        };
        let location = if mask.contains("location") {
            v.check("user.location", domain::location(&user.location))
        } else {
            None
        };
        v.finish()?;

        let mut tx = self.pool.begin().await?;
        let mut row = profile::lock_user(&mut tx, target)
            .await?
            .ok_or_else(|| ApiError::not_found("user"))?;
        let mut changed = Vec::new();
        let mut apply = |path: &str, slot: &mut String, value: Option<String>| {
            if let Some(value) = value
                && *slot != value
            {
                *slot = value;
                changed.push(path.to_string());
            }
        };
        apply(
            "handle",
            &mut row.handle,
            handle.map(|h| h.as_str().to_string()),
        );
        apply("display_name", &mut row.display_name, name);
        apply("bio", &mut row.bio, bio);
        apply("avatar_url", &mut row.avatar_url, avatar);
        apply("cover_url", &mut row.cover_url, cover);
        apply("location", &mut row.location, location);
        if !changed.is_empty() {
            row = profile::save_profile(&mut tx, &row)
                .await
                .map_err(|err| unique_violation(err, &["handle"]))?;
            if !row.bio.is_empty() && !row.avatar_url.is_empty() {
                store::award(&mut tx, row.id, "PROFILE_COMPLETE").await?;
            }
            emit(
                &mut tx,
                row.id,
                caller.subject(),
                Payload::UserUpdated(events::UserUpdated {
                    user_id: row.id.to_string(),
                    changed_fields: changed,
                    user: Some(tribe_proto::r#type::v1::UserSummary {
                        user_id: row.id.to_string(),
                        handle: row.handle.clone(),
                        display_name: row.display_name.clone(),
                        avatar_url: row.avatar_url.clone(),
                        is_trainer: row.is_trainer,
                        is_verified: row.is_verified,
                    }),
                }),
            )
            .await?;
        }
        tx.commit().await?;
        let (specialties, links) = self.profile_extras(row.id).await?;
        Ok(pb::UpdateUserResponse {
            user: Some(convert::user(row, specialties, links, true)),
        })
    }

    pub async fn set_social_link(
        &self,
        caller: &UserPrincipal,
        req: pb::SetSocialLinkRequest,
    ) -> Result<pb::SetSocialLinkResponse, ApiError> {
        let target = owner(caller, &req.user_id, false)?;
        let link = req
            .link
            .ok_or_else(|| ApiError::invalid_field("link", "is required"))?;
        let platform = pb::SocialPlatform::try_from(link.platform)
            .ok()
            .filter(|p| *p != pb::SocialPlatform::Unspecified)
            .ok_or_else(|| ApiError::invalid_field("link.platform", "must be a known platform"))?;
        let url = domain::social_url(platform, &link.url)
            .map_err(|e| ApiError::invalid_field("link.url", e))?;
        let mut conn = self.pool.acquire().await?;
        if !store::exists(&mut conn, target).await? {
            return Err(ApiError::not_found("user"));
        }
        profile::set_social_link(&mut conn, target, convert::platform_name(platform), &url).await?;
        Ok(pb::SetSocialLinkResponse {
            social_links: convert::social_links(profile::social_links(&mut conn, target).await?),
        })
    }

    pub async fn delete_social_link(
        &self,
        caller: &UserPrincipal,
        req: pb::DeleteSocialLinkRequest,
    ) -> Result<pb::DeleteSocialLinkResponse, ApiError> {
        let target = owner(caller, &req.user_id, false)?;
        let platform = pb::SocialPlatform::try_from(req.platform)
            .ok()
            .filter(|p| *p != pb::SocialPlatform::Unspecified)
            .ok_or_else(|| ApiError::invalid_field("platform", "must be a known platform"))?;
        let mut conn = self.pool.acquire().await?;
        profile::delete_social_link(&mut conn, target, convert::platform_name(platform)).await?;
        Ok(pb::DeleteSocialLinkResponse {
            social_links: convert::social_links(profile::social_links(&mut conn, target).await?),
        })
    }

    pub async fn list_specialties(
        &self,
        caller: &UserPrincipal,
        req: pb::ListSpecialtiesRequest,
    ) -> Result<pb::ListSpecialtiesResponse, ApiError> {
        let limit = page::page_size(req.page_size)? as usize;
        let hash = FilterHash::new().finish();
        let scope = PageScope {
            method: "ListSpecialties",
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = match self.pages.decode(scope, &req.page_token)? {
            Some(keys) => Some(
                keys.first()
                    .and_then(Key::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::invalid_field("page_token", "malformed page token"))?,
            ),
            None => None,
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows =
            profile::list_specialties(&mut conn, after.as_deref(), limit as i64 + 1).await?;
        let next_page_token = self
            .pages
            .next_token(scope, &mut rows, limit, |r| vec![Key::Str(r.id.clone())]);
        Ok(pb::ListSpecialtiesResponse {
            specialties: rows.into_iter().map(convert::specialty).collect(),
            next_page_token,
        })
    }

    pub async fn set_my_specialties(
        &self,
        caller: &UserPrincipal,
        req: pb::SetMySpecialtiesRequest,
    ) -> Result<pb::SetMySpecialtiesResponse, ApiError> {
        let target = owner(caller, &req.user_id, false)?;
        let mut v = Violations::new();
        if req.specialty_ids.len() > MAX_SPECIALTIES {
            v.add(
                "specialty_ids",
                format!("at most {MAX_SPECIALTIES} specialties"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (i, id) in req.specialty_ids.iter().enumerate() {
            if !seen.insert(id) {
                v.add(format!("specialty_ids[{i}]"), "is a duplicate");
            }
        }
        v.finish()?;
        let mut tx = self.pool.begin().await?;
        let row = profile::lock_user(&mut tx, target)
            .await?
            .ok_or_else(|| ApiError::not_found("user"))?;
        if !row.is_trainer {
            return Err(ApiError::permission_denied(
                "only trainer accounts have specialties",
            ));
        }
        let known = profile::known_specialties(&mut tx, &req.specialty_ids).await?;
        let mut v = Violations::new();
        for (i, id) in req.specialty_ids.iter().enumerate() {
            if !known.contains(id) {
                v.add(
                    format!("specialty_ids[{i}]"),
                    format!("unknown specialty '{id}'"),
                );
            }
        }
        v.finish()?;
        profile::replace_specialties(&mut tx, target, &req.specialty_ids).await?;
        let specialties = profile::user_specialties(&mut tx, target).await?;
        tx.commit().await?;
        Ok(pb::SetMySpecialtiesResponse {
            specialties: specialties.into_iter().map(convert::specialty).collect(),
        })
    }

    pub async fn list_achievements(
        &self,
        caller: &UserPrincipal,
        req: pb::ListAchievementsRequest,
    ) -> Result<pb::ListAchievementsResponse, ApiError> {
        let me = caller.id();
        let target = ids::parse_id("user_id", &req.user_id)?;
        let limit = page::page_size(req.page_size)? as usize;
        let hash = FilterHash::new().add("user_id", target.as_bytes()).finish();
        let scope = PageScope {
            method: "ListAchievements",
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = time_id_cursor(self.pages.decode(scope, &req.page_token)?)?;
        let mut conn = self.pool.acquire().await?;
        if !store::exists(&mut conn, target).await?
            || store::is_blocked(&mut conn, target, me).await?
        {
            return Err(ApiError::not_found("user"));
        }
        let mut rows = profile::achievements(&mut conn, target, after, limit as i64 + 1).await?;
        let next_page_token = self
            .pages
            .next_token(scope, &mut rows, limit, |r| time_id_keys(r.earned_at, r.id));
        Ok(pb::ListAchievementsResponse {
            achievements: rows
                .into_iter()
                .map(|r| pb::Achievement {
                    achievement_id: r.id.to_string(),
                    code: r.code,
                    title: r.title,
                    description: r.description,
                    icon_url: r.icon_url,
                    earn_time: convert::timestamp(r.earned_at),
                })
                .collect(),
            next_page_token,
        })
    }

    pub async fn search_users(
        &self,
        caller: &UserPrincipal,
        req: pb::SearchUsersRequest,
    ) -> Result<pb::SearchUsersResponse, ApiError> {
        let me = caller.id();
        let mut v = Violations::new();
        let query = v
            .check("query", domain::search_query(&req.query))
            .unwrap_or_default();
        let limit = v
            .check(
                "page_size",
                page::page_size(req.page_size).map_err(|_| "must not be negative"),
            )
            .unwrap_or(0) as usize;
        if req.specialty_ids.len() > 20 {
            v.add("specialty_ids", "at most 20 specialties");
        }
        v.finish()?;
        let mut conn = self.pool.acquire().await?;
        let known = profile::known_specialties(&mut conn, &req.specialty_ids).await?;
        let mut v = Violations::new();
        for (i, id) in req.specialty_ids.iter().enumerate() {
            if !known.contains(id) {
                v.add(
                    format!("specialty_ids[{i}]"),
                    format!("unknown specialty '{id}'"),
                );
            }
        }
        v.finish()?;
        let mut specialties = req.specialty_ids.clone();
        specialties.sort();
        let hash = FilterHash::new()
            .add("query", &query)
            .add("trainers_only", [req.trainers_only as u8])
            .add("specialties", specialties.join(","))
            .finish();
        let scope = PageScope {
            method: "SearchUsers",
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = match self.pages.decode(scope, &req.page_token)? {
            None => None,
            Some(keys) => match keys.as_slice() {
                [Key::Float(score), Key::Str(id)] => Some((
                    *score,
                    Uuid::parse_str(id).map_err(|_| {
                        ApiError::invalid_field("page_token", "malformed page token")
                    })?,
                )),
                _ => {
                    return Err(ApiError::invalid_field(
                        "page_token",
                        "malformed page token",
                    ));
                }
            },
        };
        let filter = profile::SearchFilter {
            viewer: me,
            query: &query,
            trainers_only: req.trainers_only,
            specialty_ids: &specialties,
        };
        let mut rows = profile::search(&mut conn, &filter, after, limit as i64 + 1).await?;
        let next_page_token = self.pages.next_token(scope, &mut rows, limit, |r| {
            vec![Key::Float(r.score), Key::Str(r.user.id.to_string())]
        });
        Ok(pb::SearchUsersResponse {
            users: rows.into_iter().map(|r| convert::summary(r.user)).collect(),
            next_page_token,
        })
    }
}
