//! Registration, login, refresh-token rotation and logout.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use sha2::{Digest, Sha256};
use tonic::Code;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::{ApiError, Violations};
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::user::v1 as pb;
use uuid::Uuid;

use super::{UserService, emit};
use crate::convert;
use crate::domain::{Email, Handle, NewPassword, display_name};
use crate::store::{self, UserRow, accounts};

/// argon2id hashing on the blocking pool; verifies against a dummy hash for unknown
/// accounts so response time does not reveal which emails exist.
pub struct PasswordHasher {
    dummy: String,
}

impl PasswordHasher {
    pub fn new() -> Self {
        let dummy = hash_blocking("dummy password for timing equalisation").unwrap_or_default();
        Self { dummy }
    }

    async fn hash(&self, password: String) -> Result<String, ApiError> {
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(ApiError::internal)?
    }

    async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let hash = hash.unwrap_or_else(|| self.dummy.clone());
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false)
    }
}

fn hash_blocking(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2: {e}")))
}

fn new_refresh_token() -> (String, Vec<u8>) {
    let token = format!("rt_{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let hash = Sha256::digest(token.as_bytes()).to_vec();
    (token, hash)
}

fn refresh_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The roles an account gets from its type.
fn roles_for(is_trainer: bool) -> Vec<String> {
    let mut roles = vec!["user".to_string()];
    if is_trainer {
        roles.push("trainer".into());
    }
    roles
}

impl UserService {
    /// Issues an access token plus a refresh token of `family` (a new family per login).
    async fn issue_tokens(
        &self,
        conn: &mut sqlx::PgConnection,
        user: &UserRow,
        family: Uuid,
    ) -> Result<pb::AuthTokens, ApiError> {
        let (refresh, refresh_hash) = new_refresh_token();
        let refresh_expires = Utc::now()
            + chrono::Duration::from_std(self.refresh_ttl).map_err(ApiError::internal)?;
        accounts::insert_refresh(conn, family, user.id, &refresh_hash, refresh_expires).await?;
        let (access, exp) = self.signer.access_token(
            &self.audience,
            &user.id.to_string(),
            user.roles.clone(),
            &user.tier,
            &family.to_string(),
            self.access_ttl,
        )?;
        Ok(pb::AuthTokens {
            access_token: access,
            access_token_expire_time: Some(prost_types::Timestamp {
                seconds: exp,
                nanos: 0,
            }),
            refresh_token: refresh,
            refresh_token_expire_time: convert::timestamp(refresh_expires),
        })
    }

    pub async fn register(
        &self,
        client_ip: &str,
        req: pb::RegisterRequest,
    ) -> Result<pb::RegisterResponse, ApiError> {
        let mut v = Violations::new();
        let email = v.check("email", Email::parse(&req.email));
        let handle = v.check("handle", Handle::parse(&req.handle));
        let name = v.check("display_name", display_name(&req.display_name));
        let password = v.check(
            "password",
            NewPassword::parse(&req.password, &req.email, &req.handle),
        );
        let account_type = match pb::AccountType::try_from(req.account_type) {
            Ok(pb::AccountType::Member) => Some(false),
            Ok(pb::AccountType::Trainer) => Some(true),
            _ => {
                v.add(
                    "account_type",
                    "must be ACCOUNT_TYPE_MEMBER or ACCOUNT_TYPE_TRAINER",
                );
                None
            }
        };
        v.finish()?;
        let (Some(email), Some(handle), Some(name), Some(password), Some(is_trainer)) =
            (email, handle, name, password, account_type)
        else {
            return Err(ApiError::internal(anyhow::anyhow!(
                "validated fields missing"
            )));
        };

        if self
            .throttle
            .hit("register:ip", client_ip, self.limits.window)
            .await
            > self.limits.registrations_per_ip
        {
            return Err(ApiError::exhausted(
                "REGISTRATION_THROTTLED",
                "too many registrations from this address; try later",
            ));
        }
        let password_hash = self.hasher.hash(password.expose().to_string()).await?;

        let mut tx = self.pool.begin().await?;
        let new = accounts::NewUser {
            id: Uuid::now_v7(),
            email: email.as_str(),
            handle: handle.as_str(),
            display_name: &name,
            password_hash: &password_hash,
            is_trainer,
            roles: roles_for(is_trainer),
        };
        let user = accounts::insert_user(&mut tx, &new)
            .await
            .map_err(|err| unique_violation(err, &["email", "handle"]))?;
        store::award(&mut tx, user.id, "WELCOME").await?;
        let actor = user.id.to_string();
        emit(
            &mut tx,
            user.id,
            &actor,
            Payload::UserRegistered(events::UserRegistered {
                user_id: actor.clone(),
                handle: user.handle.clone(),
                is_trainer,
            }),
        )
        .await?;
        let tokens = self.issue_tokens(&mut tx, &user, Uuid::now_v7()).await?;
        tx.commit().await?;
        tracing::info!(user_id = %user.id, is_trainer, "account registered");
        Ok(pb::RegisterResponse {
            user: Some(convert::user(user, vec![], vec![], true)),
            tokens: Some(tokens),
        })
    }

    pub async fn login(
        &self,
        client_ip: &str,
        req: pb::LoginRequest,
    ) -> Result<pb::LoginResponse, ApiError> {
        let mut v = Violations::new();
        if req.email.trim().is_empty() {
            v.add("email", "is required");
        }
        if req.password.is_empty() {
            v.add("password", "is required");
        }
        if req.password.len() > 1024 {
            v.add("password", "is too long");
        }
        v.finish()?;
        let account_key = req.email.trim().to_lowercase();
        if self.throttle.count("login:acct", &account_key).await
            >= self.limits.login_failures_per_account
            || self.throttle.count("login:ip", client_ip).await >= self.limits.login_failures_per_ip
        {
            return Err(ApiError::exhausted(
                "LOGIN_THROTTLED",
                "too many failed sign-in attempts; try again later",
            ));
        }

        let mut conn = self.pool.acquire().await?;
        let found = accounts::credentials(&mut conn, &account_key).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        let ok = self.hasher.verify(req.password, hash).await;
        let Some(user) = user.filter(|_| ok) else {
            self.throttle
                .hit("login:acct", &account_key, self.limits.window)
                .await;
            self.throttle
                .hit("login:ip", client_ip, self.limits.window)
                .await;
            return Err(ApiError::unauthenticated(
                "INVALID_CREDENTIALS",
                "email or password is incorrect",
            ));
        };
        self.throttle.reset("login:acct", &account_key).await;
        drop(conn);

        let mut tx = self.pool.begin().await?;
        let tokens = self.issue_tokens(&mut tx, &user, Uuid::now_v7()).await?;
        tx.commit().await?;
        let (specialties, links) = self.profile_extras(user.id).await?;
        Ok(pb::LoginResponse {
            user: Some(convert::user(user, specialties, links, true)),
            tokens: Some(tokens),
        })
    }

    pub async fn refresh(
        &self,
        req: pb::RefreshTokenRequest,
    ) -> Result<pb::RefreshTokenResponse, ApiError> {
        if req.refresh_token.is_empty() || req.refresh_token.len() > 256 {
            return Err(ApiError::invalid_field("refresh_token", "is required"));
        }
        let invalid =
            || ApiError::unauthenticated("REFRESH_TOKEN_INVALID", "refresh token is not valid");
        let mut tx = self.pool.begin().await?;
        let row = accounts::lock_refresh(&mut tx, &refresh_hash(&req.refresh_token))
            .await?
            .ok_or_else(invalid)?;
        if row.revoked_at.is_some() {
            return Err(invalid());
        }
        if row.used_at.is_some() {
            // A rotated token came back: someone holds a copy. End the whole session.
            accounts::revoke_family(&mut tx, row.family_id).await?;
            emit(
                &mut tx,
                row.user_id,
                "",
                Payload::UserSessionsRevoked(events::UserSessionsRevoked {
                    user_id: row.user_id.to_string(),
                    session_id: row.family_id.to_string(),
                }),
            )
            .await?;
            tx.commit().await?;
            tracing::warn!(user_id = %row.user_id, family = %row.family_id, "refresh token reuse; session revoked");
            return Err(ApiError::unauthenticated(
                "REFRESH_TOKEN_REUSED",
                "refresh token was already used; the session is revoked",
            ));
        }
        if row.expires_at <= Utc::now() {
            return Err(ApiError::unauthenticated(
                "REFRESH_TOKEN_EXPIRED",
                "refresh token expired; sign in again",
            ));
        }
        accounts::mark_used(&mut tx, row.id).await?;
        let user = store::user_by_id(&mut tx, row.user_id)
            .await?
            .ok_or_else(invalid)?;
        let tokens = self.issue_tokens(&mut tx, &user, row.family_id).await?;
        tx.commit().await?;
        Ok(pb::RefreshTokenResponse {
            tokens: Some(tokens),
        })
    }

    pub async fn logout(
        &self,
        caller: &UserPrincipal,
        req: pb::LogoutRequest,
    ) -> Result<pb::LogoutResponse, ApiError> {
        let me = caller.id();
        let mut tx = self.pool.begin().await?;
        let session_id = if req.all_sessions {
            accounts::revoke_all(&mut tx, me).await?;
            String::new()
        } else {
            if req.refresh_token.is_empty() {
                return Err(ApiError::invalid_field(
                    "refresh_token",
                    "is required unless all_sessions is set",
                ));
            }
            let row = accounts::lock_refresh(&mut tx, &refresh_hash(&req.refresh_token))
                .await?
                .ok_or_else(|| {
                    ApiError::unauthenticated("REFRESH_TOKEN_INVALID", "refresh token is not valid")
                })?;
            if row.user_id != me {
                return Err(ApiError::permission_denied(
                    "the refresh token belongs to another user",
                ));
            }
            accounts::revoke_family(&mut tx, row.family_id).await?;
            row.family_id.to_string()
        };
        emit(
            &mut tx,
            me,
            caller.subject(),
            Payload::UserSessionsRevoked(events::UserSessionsRevoked {
                user_id: me.to_string(),
                session_id,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(pb::LogoutResponse {})
    }
}

/// Maps a unique violation on `users` to EMAIL_TAKEN / HANDLE_TAKEN.
pub(super) fn unique_violation(err: sqlx::Error, fields: &[&str]) -> ApiError {
    if let sqlx::Error::Database(db) = &err
        && db.code().as_deref() == Some("23505")
    {
        let constraint = db.constraint().unwrap_or_default();
        for field in fields {
            if constraint.contains(field) {
                let reason = if *field == "email" {
                    "EMAIL_TAKEN"
                } else {
                    "HANDLE_TAKEN"
                };
                return ApiError::rejected(
                    Code::AlreadyExists,
                    reason,
                    format!("that {field} is already taken"),
                );
            }
        }
    }
    ApiError::from(err)
}
