//! Keeping the templates' day current.
//!
//! A template holds its bakery's history up to today, today's whole day included: a
//! session reads it through the shared history (`crate::cloner`), where a ticket shows
//! once its time has come, so the dashboard fills up as the day goes. When the bakery's
//! day changes (midnight in Madrid) the templates are seeded again for the new day. The
//! generator is a function of the calendar day, so yesterday's tickets stay what they were
//! and only the window slides: live sessions see no jump, new clones copy the new day's
//! stock, production and orders.
//!
//! demo-session does it itself — before a clone, and on every cleanup pass — so nothing
//! needs scheduling. Per process one refresh runs at a time and the day it was done for
//! is remembered (one atomic read per clone afterwards); across processes the seed's
//! advisory lock serializes them, and the second finds the template already current.

use std::sync::atomic::{AtomicI32, Ordering};

use bakery_config::db::{self, AsyncPgConnection, PgPool};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::sql_types::{Nullable, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

/// Why the templates could not be checked or seeded.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("database pool")]
    Pool(#[from] diesel_async::pooled_connection::deadpool::PoolError),
    #[error("database")]
    Database(#[from] diesel::result::Error),
    #[error("seed")]
    Seed(#[from] bakery_demo_data::SeedError),
}

/// What [`TemplateDay::ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Already done for this day (by this process, or the templates were current).
    Current,
    /// The templates were seeded for `day`.
    Seeded { day: NaiveDate },
}

/// The bakery day the templates were last found current for, in this process.
#[derive(Debug, Default)]
pub struct TemplateDay {
    /// `NaiveDate::num_days_from_ce`, 0 before the first check.
    current_for: AtomicI32,
    refreshing: tokio::sync::Mutex<()>,
}

impl TemplateDay {
    // (`AtomicI32::load` spelled out: diesel's `RunQueryDsl::load` is in scope too)
    fn is_current_for(&self, day: NaiveDate) -> bool {
        AtomicI32::load(&self.current_for, Ordering::Acquire) == day.num_days_from_ce()
    }

    /// Seeds the templates again when their history does not reach `now`'s bakery day.
    pub async fn ensure(
        &self,
        pool: &PgPool,
        now: DateTime<Utc>,
    ) -> Result<Refresh, TemplateError> {
        let today = bakery_demo_data::clock::bakery_today(now);
        if self.is_current_for(today) {
            return Ok(Refresh::Current);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        if self.is_current_for(today) {
            return Ok(Refresh::Current);
        }
        let mut conn = pool.get().await?;
        let refresh = if behind(&mut conn, today).await? {
            let report = bakery_demo_data::seed_inventory(&mut conn, today).await?;
            tracing::info!(%today, ?report, "templates seeded for the new bakery day");
            Refresh::Seeded { day: today }
        } else {
            Refresh::Current
        };
        self.current_for
            .store(today.num_days_from_ce(), Ordering::Release);
        Ok(refresh)
    }
}

#[derive(QueryableByName)]
struct LastTicket {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last: Option<DateTime<Utc>>,
}

/// Whether some template's latest ticket is of a day before `today` (or it has none).
async fn behind(conn: &mut AsyncPgConnection, today: NaiveDate) -> Result<bool, TemplateError> {
    let templates: Vec<Uuid> = bakery_demo_data::accounts()
        .iter()
        .map(|a| a.tenant_id)
        .collect();
    let lasts = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            let mut lasts = Vec::with_capacity(templates.len());
            for template in &templates {
                lasts.push(
                    sql_query("SELECT max(sold_at) AS last FROM sales WHERE tenant_id = $1")
                        .bind::<SqlUuid, _>(*template)
                        .get_result::<LastTicket>(c)
                        .await?
                        .last,
                );
            }
            Ok(lasts)
        })
        .await?;
    Ok(lasts
        .into_iter()
        .any(|last| last.is_none_or(|t| bakery_demo_data::clock::bakery_today(t) < today)))
}
