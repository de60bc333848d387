//! The procurement run: for every customer tenant, draft purchase orders for ingredients
//! at or under their reorder point ([`purchasing::draft_reorders`]). Demo tenants are
//! never touched.
//!
//! Which tenants are customers is tenant-service's knowledge, asked through a
//! [`TenantDirectory`]: in production [`HttpTenantDirectory`] calls
//! `GET {TENANT_SERVICE_URL}/internal/tenants?demo=false` with a service identity. Demo
//! tenants are excluded three times: tenant-service leaves them out, entries flagged
//! `is_demo`/`is_demo_template` are skipped here anyway, and the drafting SQL refuses
//! those tenants and the template tenants of `data/demo/accounts.toml`. The directory's
//! answer is [`bakery_config::tenants::TenantList`], the type tenant-service writes it with.
//!
//! Runs as a background task of `inventory-service serve` every
//! `PROCUREMENT_INTERVAL_SECONDS` (0: off) and once with `inventory-service procurement-run`
//! (a Kubernetes CronJob).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, TokenError, TokenKeys};
use bakery_config::db::PgPool;
use bakery_config::tenants::{TenantList, TenantSummary, template_tenant_ids};
use serde::Serialize;
use uuid::Uuid;

use crate::metrics::{InventoryMetrics, RunOutcome};
use crate::models::{WriteScope, purchasing};
use crate::settings::Settings;

/// The service name in the identity procurement presents to tenant-service.
pub const SERVICE_NAME: &str = "inventory-service";

/// Page size asked of tenant-service (its maximum).
const PAGE_SIZE: i64 = 500;
/// A bound on pages, so a misbehaving directory cannot keep a run going forever.
const MAX_PAGES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("tenant-service unreachable: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("tenant-service answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("tenant-service answer not understood: {0}")]
    Decode(#[source] reqwest::Error),
    #[error("cannot sign the service identity: {0}")]
    Signing(#[source] TokenError),
}

/// Who the customer tenants are.
#[async_trait]
pub trait TenantDirectory: Send + Sync {
    /// The customer tenants (neither virtual demo tenants nor templates).
    async fn customer_tenants(&self) -> Result<Vec<TenantSummary>, DirectoryError>;
}

/// tenant-service's internal API.
pub struct HttpTenantDirectory {
    client: reqwest::Client,
    base_url: String,
    keys: TokenKeys,
}

impl HttpTenantDirectory {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        Ok(HttpTenantDirectory {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .pool_idle_timeout(bakery_config::server::CLIENT_POOL_IDLE)
                .build()?,
            base_url: settings.common.services.tenant.clone(),
            keys: TokenKeys::new(&settings.common.tokens.internal_secret, INTERNAL_AUDIENCE),
        })
    }
}

#[async_trait]
impl TenantDirectory for HttpTenantDirectory {
    async fn customer_tenants(&self) -> Result<Vec<TenantSummary>, DirectoryError> {
        let mut tenants = Vec::new();
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let page = self.page(offset).await?;
            tenants.extend(page.tenants);
            match page.next_offset {
                Some(next) if next > offset => offset = next,
                _ => break,
            }
        }
        Ok(tenants)
    }
}

impl HttpTenantDirectory {
    /// `GET /internal/tenants?demo=false&limit=500&offset=…`
    async fn page(&self, offset: i64) -> Result<TenantList, DirectoryError> {
        let token = self
            .keys
            .sign(&Identity::service(SERVICE_NAME, 60))
            .map_err(DirectoryError::Signing)?;
        let response = self
            .client
            .get(format!("{}/internal/tenants", self.base_url))
            .query(&[
                ("demo", "false".to_owned()),
                ("limit", PAGE_SIZE.to_string()),
                ("offset", offset.to_string()),
            ])
            .bearer_auth(token)
            .send()
            .await
            .map_err(DirectoryError::Unreachable)?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(DirectoryError::Status {
                status: status.as_u16(),
                body: body.chars().take(500).collect(),
            });
        }
        response.json().await.map_err(DirectoryError::Decode)
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProcurementReport {
    /// Customer tenants checked.
    pub tenants: usize,
    /// Listed tenants skipped because they are demo or template tenants.
    pub skipped_demo: usize,
    pub orders_drafted: usize,
    pub lines_drafted: usize,
    /// Tenants whose drafting failed (logged; the others still ran).
    pub failed: usize,
}

/// One procurement run over every customer tenant.
pub async fn run_once(
    pool: &PgPool,
    directory: &dyn TenantDirectory,
) -> Result<ProcurementReport, DirectoryError> {
    let listed = directory.customer_tenants().await?;
    let mut excluded: Vec<Uuid> = listed
        .iter()
        .filter(|t| !t.is_customer())
        .map(|t| t.id)
        .collect();
    match template_tenant_ids() {
        Ok(ids) => excluded.extend_from_slice(ids),
        // only a broken data file committed; the flags above still exclude the templates
        Err(e) => tracing::error!(error = %e, "template tenants unknown to procurement"),
    }
    let mut report = ProcurementReport {
        skipped_demo: listed.iter().filter(|t| !t.is_customer()).count(),
        ..Default::default()
    };
    for tenant in listed.iter().filter(|t| t.is_customer()) {
        report.tenants += 1;
        let drafted = match pool.get().await {
            Ok(mut conn) => {
                // the drafts are dated in the bakery's days (tenant-service's `timezone`)
                let scope = WriteScope::from(tenant.id).in_time_zone(tenant.time_zone);
                purchasing::draft_reorders(&mut conn, scope, &excluded).await
            }
            Err(e) => Err(e.into()),
        };
        match drafted {
            Ok(d) => {
                if d.orders > 0 {
                    tracing::info!(tenant = %tenant.id, orders = d.orders, lines = d.lines, "procurement drafted orders");
                }
                report.orders_drafted += d.orders;
                report.lines_drafted += d.lines;
            }
            Err(error) => {
                tracing::error!(tenant = %tenant.id, %error, "procurement failed for tenant");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// [`run_once`], its outcome counted in `metrics` (`bakery_procurement_runs_total`,
/// `bakery_procurement_skipped_demo_tenants_total`).
pub async fn run_recorded(
    pool: &PgPool,
    directory: &dyn TenantDirectory,
    metrics: &InventoryMetrics,
) -> Result<ProcurementReport, DirectoryError> {
    let result = run_once(pool, directory).await;
    match &result {
        Ok(report) if report.failed > 0 => {
            metrics.procurement_run(RunOutcome::partial, report.skipped_demo);
        }
        Ok(report) => metrics.procurement_run(RunOutcome::ok, report.skipped_demo),
        Err(_) => metrics.procurement_run(RunOutcome::failed, 0),
    }
    result
}

/// Runs [`run_recorded`] every `interval` (the first run one interval after start).
pub fn spawn_scheduler(
    pool: PgPool,
    directory: Arc<dyn TenantDirectory>,
    interval: Duration,
    metrics: InventoryMetrics,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match run_recorded(&pool, directory.as_ref(), &metrics).await {
                Ok(report) => tracing::info!(?report, "procurement run finished"),
                Err(error) => tracing::warn!(%error, "procurement run skipped"),
            }
        }
    })
}
