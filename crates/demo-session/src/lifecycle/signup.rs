//! From demo to customer: convert a session into a real account, or reset it to its
//! template (docs/demo-sessions.md, "From demo to customer").
//!
//! Convert is a saga across three databases, serialised per session by a row lock on the
//! session (held in the `demo_session` database for the whole conversion, so a second
//! submit waits and then gets the first one's answer):
//!
//! 1. `demo_conversions` row `started` (committed at once: a crash leaves a row naming the
//!    account it may have written);
//! 2. at the same time, in two databases: the tenant and its owner (tenant database, one
//!    transaction, after the password's argon2 hash) and the kept data (inventory
//!    database, one transaction) — neither needs the other, and the hash (CPU) overlaps
//!    the copy (PostgreSQL);
//! 3. `demo_conversions` row `completed` and the session ended, in the locked transaction.
//!
//! A failure at 2 or 3 removes whatever the steps wrote (the inventory rows, then the
//! account; removing what was not written is a no-op), then the `started` row goes. The
//! new account's ids derive from the session id, so a retry can never make a second one.
//! A taken address is refused before all of this (and again by the unique index).

use std::collections::BTreeMap;

use bakery_config::client::ClientAddress;
use bakery_config::demo::{SessionId, SessionStatus};
use bakery_config::funnel::{Event, Milestone};
use bakery_config::http::chain;
use bakery_tenant::models::{Tenant, User};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Serialize;
use uuid::Uuid;

use super::{DemoSessions, SessionView};
use crate::client::client_hash;
use crate::cloner::{self, CloneFor, CloneRequest};
use crate::convert::{self, AccountError, Keep, NewAccount};
use crate::error::{ConversionFailure, DemoError, InternalError};
use crate::sessions::{self, DemoSession};

/// How long a conversion may stay `started` before cleanup undoes it: far past any
/// conversion (every statement runs under a timeout of at most a minute).
const STALE_CONVERSION_SECS: i64 = 600;

/// A conversion request, parsed at the edge.
#[derive(Debug)]
pub struct ConvertForm {
    pub bakery_name: String,
    pub owner_name: String,
    pub email: bakery_tenant::domain::Email,
    pub password: bakery_tenant::domain::Password,
    pub keep: Keep,
}

/// `201` of `POST /api/demo/session/{id}/convert`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Converted {
    pub tenant_id: Uuid,
    /// A customer access token for the new owner (`Authorization: Bearer`).
    pub access_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// Rows copied per table (`0` for a table whose data set was not kept).
    pub kept: BTreeMap<String, i64>,
}

impl DemoSessions {
    /// Converts the session into a customer account keeping `form.keep`; a session that
    /// already converted answers its account again (with a fresh access token).
    pub async fn convert(
        &self,
        id: &SessionId,
        client: ClientAddress,
        form: ConvertForm,
    ) -> Result<Converted, DemoError> {
        let ip_hash = client_hash(&self.settings.ip_hash_key, client);
        match self
            .cache
            .hit_convert_limit(&ip_hash, self.settings.conversions_per_hour)
            .await
        {
            Ok(None) => {}
            Ok(Some(retry_after)) => return Err(DemoError::TooManyConversions { retry_after }),
            // Redis down: every conversion still costs an argon2 hash and the session lock
            Err(e) => tracing::warn!(error = %e, "conversion rate limit unavailable"),
        }
        let (tenant_id, user_id) = convert::account_ids(id);
        {
            let mut ten = self.pools.tenant.get().await?;
            if convert::email_taken(&mut ten, form.email.as_str(), user_id).await? {
                return Err(DemoError::EmailTaken);
            }
        }
        let mut conn = self.pools.sessions.get().await?;
        let outcome = conn
            .transaction::<_, DemoError, _>(async |c| {
                let session = sessions::lock(c, id).await?.ok_or(DemoError::NotFound)?;
                if let Some(done) = convert::find(c, id).await?
                    && done.is_completed()
                {
                    let kept = serde_json::from_value(done.kept).unwrap_or_default();
                    return Ok((done.tenant_id, done.user_id, kept, None));
                }
                self.check_active(&session)?;
                let kept = self.run_saga(c, &session, &form).await?;
                Ok((tenant_id, user_id, kept, Some(session)))
            })
            .await;
        drop(conn);
        let (tenant, user, kept, ended) = outcome?;
        if let Some(session) = ended {
            if self.convert_plan.keeps_shared_history(&form.keep) {
                self.statistics.notify_one();
            }
            self.after_conversion(&session).await;
        }
        let (tenant_row, user_row) = {
            let mut ten = self.pools.tenant.get().await?;
            convert::find_account(&mut ten, tenant, user)
                .await?
                .ok_or(DemoError::ConversionGone)?
        };
        self.issue(&tenant_row, &user_row, kept)
    }

    fn check_active(&self, s: &DemoSession) -> Result<(), DemoError> {
        match self.view(s, None).status {
            SessionStatus::Ready => Ok(()),
            SessionStatus::Pending => Err(DemoError::NotReady),
            SessionStatus::Expired | SessionStatus::Destroyed | SessionStatus::Failed => {
                Err(DemoError::Expired)
            }
        }
    }

    /// Steps 1–3 on the locked session's connection `c`; compensates on failure.
    async fn run_saga(
        &self,
        c: &mut bakery_config::db::AsyncPgConnection,
        session: &DemoSession,
        form: &ConvertForm,
    ) -> Result<BTreeMap<String, i64>, DemoError> {
        let (tenant_id, user_id) = convert::account_ids(&session.id);
        {
            let mut own = self.pools.sessions.get().await?;
            convert::record_started(&mut own, &session.id, tenant_id, user_id).await?;
        }
        let result = self.write_account(c, session, form).await;
        if let Err(e) = &result {
            tracing::warn!(session_id = %session.id, error = %chain(e), "conversion failed; compensating");
            self.compensate(&session.id, tenant_id).await;
        }
        result
    }

    /// The owner's account (after the password's hash) and the copy of the kept data, at
    /// the same time; then the record. Both parts run to their end, so a compensation
    /// never races a write still under way.
    async fn write_account(
        &self,
        c: &mut bakery_config::db::AsyncPgConnection,
        session: &DemoSession,
        form: &ConvertForm,
    ) -> Result<BTreeMap<String, i64>, DemoError> {
        let (tenant_id, user_id) = convert::account_ids(&session.id);
        let account = async {
            let password = form.password.clone();
            let password_hash = tokio::task::spawn_blocking(move || {
                bakery_tenant::password::hash(password.expose())
            })
            .await
            .map_err(InternalError::Join)?
            .map_err(InternalError::Hash)?;
            let account = NewAccount {
                tenant_id,
                user_id,
                bakery_name: form.bakery_name.clone(),
                owner_name: form.owner_name.clone(),
                email: form.email.as_str().to_owned(),
                password_hash,
            };
            let mut ten = self.pools.tenant.get().await?;
            convert::create_account(&mut ten, session.virtual_tenant_id, &account)
                .await
                .map_err(|e| match e {
                    AccountError::EmailTaken => DemoError::EmailTaken,
                    other => DemoError::ConversionFailed(other.into()),
                })?;
            Ok::<_, DemoError>(())
        };
        let copy = async {
            let mut inv = self.pools.inventory.get().await?;
            convert::copy_kept(
                &mut inv,
                &self.convert_plan,
                &form.keep,
                session.virtual_tenant_id,
                tenant_id,
            )
            .await
            .map_err(|e| DemoError::ConversionFailed(e.into()))
        };
        let (account, kept) = tokio::join!(account, copy);
        account?;
        let kept = kept?;
        let recorded = async {
            convert::record(c, &session.id, &kept).await?;
            sessions::end_now(c, &session.id).await
        };
        recorded
            .await
            .map_err(|e| DemoError::ConversionFailed(ConversionFailure::Record(e)))?;
        Ok(kept)
    }

    /// Removes whatever the conversion wrote (inventory rows, then the account), then its
    /// `started` row. If a removal fails, the `started` row stays, naming the account.
    async fn compensate(&self, session: &SessionId, tenant: Uuid) {
        let removed = async {
            self.remove_account_data(tenant).await?;
            let mut own = self.pools.sessions.get().await?;
            convert::forget(&mut own, session.as_str()).await?;
            Ok::<_, DemoError>(())
        }
        .await;
        if let Err(e) = removed {
            tracing::error!(session_id = %session, %tenant, error = %chain(&e), "conversion not compensated");
        }
    }

    /// Cleanup: undoes conversions left `started` for more than 10 minutes (their inventory
    /// rows, then their account, then the row); answers how many.
    pub(super) async fn undo_stale_conversions(&self) -> Result<usize, DemoError> {
        let mut conn = self.pools.sessions.get().await?;
        conn.transaction::<_, DemoError, _>(async |c| {
            let stale = convert::claim_stale(c, STALE_CONVERSION_SECS, 50).await?;
            let mut undone = 0;
            for s in &stale {
                match self.remove_account_data(s.tenant_id).await {
                    Ok(()) => {
                        convert::forget(c, &s.session_id).await?;
                        undone += 1;
                    }
                    Err(e) => tracing::warn!(
                        session_id = %s.session_id,
                        tenant = %s.tenant_id,
                        error = %chain(&e),
                        "stale conversion not undone; retried next pass"
                    ),
                }
            }
            Ok(undone)
        })
        .await
    }

    /// A conversion's account and its inventory rows.
    async fn remove_account_data(&self, tenant: Uuid) -> Result<(), DemoError> {
        let mut inv = self.pools.inventory.get().await?;
        cloner::remove_inventory(&mut inv, &self.plan, &[tenant])
            .await
            .map_err(|e| DemoError::ConversionFailed(e.into()))?;
        let mut ten = self.pools.tenant.get().await?;
        convert::remove_account(&mut ten, tenant).await?;
        Ok(())
    }

    /// The session ended by its conversion: gateways are told, the milestone recorded, its
    /// data removed as `DELETE` does (a failure is left to cleanup).
    async fn after_conversion(&self, session: &DemoSession) {
        self.metrics.ended(session.demo_account_type);
        self.cache.forget(session.id.as_str()).await;
        self.milestones(&[(session.id.clone(), Event::plain(Milestone::Converted))])
            .await;
        if let Err(e) = self.clean_one(&session.id).await {
            tracing::warn!(session_id = %session.id, error = %chain(&e), "converted session's data left to cleanup");
        }
    }

    fn issue(
        &self,
        tenant: &Tenant,
        user: &User,
        kept: BTreeMap<String, i64>,
    ) -> Result<Converted, DemoError> {
        let token = self
            .access_tokens
            .issue(user, tenant)
            .map_err(|e| InternalError::AccessToken(Box::new(e)))?;
        let ttl = chrono::Duration::seconds(i64::try_from(token.expires_in).unwrap_or(3600));
        Ok(Converted {
            tenant_id: tenant.id,
            access_token: token.token,
            expires_at: Utc::now() + ttl,
            kept,
        })
    }

    /// Puts the session's virtual tenant back to its template, rebased to today: one
    /// transaction in the inventory database (a reader sees the old data or the new, never
    /// a mix), under the session's row lock (so cleanup cannot remove the tenant meanwhile).
    /// Same session, expiry and extensions; the tenant's cache keys are dropped.
    pub async fn reset(&self, id: &SessionId) -> Result<SessionView, DemoError> {
        match self
            .cache
            .hit_reset_limit(id.as_str(), super::RESETS_PER_MINUTE)
            .await
        {
            Ok(None) => {}
            Ok(Some(retry_after)) => return Err(DemoError::TooManyResets { retry_after }),
            Err(e) => tracing::warn!(error = %e, "reset rate limit unavailable"),
        }
        let mut conn = self.pools.sessions.get().await?;
        let session = conn
            .transaction::<_, DemoError, _>(async |c| {
                let s = sessions::lock(c, id).await?.ok_or(DemoError::NotFound)?;
                self.check_active(&s)?;
                let request = CloneRequest {
                    template_id: s.base_tenant_id,
                    virtual_tenant_id: s.virtual_tenant_id,
                    owner: CloneFor::Session(s.id.clone()),
                    expires_at: s.expires_at,
                };
                let mut inv = self.pools.inventory.get().await?;
                cloner::copy_inventory(&mut inv, &self.plan, &request).await?;
                Ok(s)
            })
            .await?;
        drop(conn);
        if let Err(e) = self
            .cache
            .remove_tenant_keys(&[session.virtual_tenant_id])
            .await
        {
            tracing::warn!(session_id = %id, error = %chain(&e), "reset: tenant cache keys not dropped");
        }
        tracing::info!(session_id = %id, "demo session reset");
        let token = self.sign_token(&session)?;
        Ok(self.view(&session, Some(token)))
    }
}
