//! What the `clone-demo-tenant` Job does: clone a pending session's template into its
//! virtual tenant (`--session-id`), or fill reserved warm-pool slots (`--pool-slots`).
//! Idempotent — Kubernetes may run a Job's pod twice — because the tenant row is upserted,
//! the inventory copy first clears any earlier copy (one transaction per database), and a
//! slot already warm, claimed or released is skipped.
//!
//! Each database is reached with the limits demo-session's own pools have, so the copy gets
//! `CLONE_STATEMENT_TIMEOUT_MS` (a whole bakery per statement) exactly as the inline cloner
//! does, and the other statements the `DATABASE_*` limits. The Job reads nothing but the
//! database settings ([`CloneJobSettings`]): its Secret holds the three URLs and no key.

use anyhow::Context;
use bakery_config::db::{self, PgConn};
use bakery_config::demo::{SessionId, SessionStatus};
use bakery_config::settings::DatabaseSettings;
use uuid::Uuid;

use crate::cloner::{self, CloneFor, ClonePlan, CloneRequest};
use crate::settings::CloneJobSettings;
use crate::{pool, sessions};

/// What one run of `clone-demo-tenant` does (its command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloneWork {
    /// `--session-id <id>`: the pending session's virtual tenant.
    Session(SessionId),
    /// `--pool-slots <id>,<id>…`: reserved warm-pool slots.
    PoolSlots(Vec<Uuid>),
}

impl CloneWork {
    pub fn to_args(&self) -> Vec<String> {
        match self {
            CloneWork::Session(id) => vec!["--session-id".to_owned(), id.to_string()],
            CloneWork::PoolSlots(slots) => vec![
                "--pool-slots".to_owned(),
                slots
                    .iter()
                    .map(Uuid::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            ],
        }
    }

    /// The inverse of [`CloneWork::to_args`].
    pub fn from_args(args: &[String]) -> anyhow::Result<Self> {
        match args {
            [flag, id] if flag == "--session-id" => {
                Ok(CloneWork::Session(id.parse().context("--session-id")?))
            }
            [flag, list] if flag == "--pool-slots" => Ok(CloneWork::PoolSlots(
                list.split(',')
                    .map(|s| {
                        s.parse::<Uuid>()
                            .with_context(|| format!("--pool-slots: {s:?} is not a UUID"))
                    })
                    .collect::<anyhow::Result<_>>()?,
            )),
            _ => {
                anyhow::bail!("expected --session-id <id> or --pool-slots <id>,<id>…, got {args:?}")
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum CloneOutcome {
    Cloned,
    /// The session is no longer pending (ready, failed or cleaned): nothing to do.
    NotPending(SessionStatus),
    /// Pool slots filled, and those skipped (already warm, or no longer reserved).
    Warmed {
        cloned: usize,
        skipped: usize,
    },
}

pub async fn run(settings: &CloneJobSettings, work: &CloneWork) -> anyhow::Result<CloneOutcome> {
    let mut sessions_conn = connect(&settings.database).await?;
    let mut tenant = connect(&settings.tenant_database).await?;
    let mut inventory = connect(&settings.inventory_database).await?;
    let plan = ClonePlan::load(&mut inventory).await?;
    match work {
        CloneWork::Session(id) => {
            let session = sessions::find(&mut sessions_conn, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no demo session {id}"))?;
            if session.status != SessionStatus::Pending {
                return Ok(CloneOutcome::NotPending(session.status));
            }
            let request = CloneRequest {
                template_id: session.base_tenant_id,
                virtual_tenant_id: session.virtual_tenant_id,
                owner: CloneFor::Session(session.id),
                expires_at: session.expires_at,
            };
            cloner::create_virtual_tenant(&mut tenant, &request).await?;
            cloner::copy_inventory(&mut inventory, &plan, &request).await?;
            Ok(CloneOutcome::Cloned)
        }
        CloneWork::PoolSlots(slots) => {
            let (mut cloned, mut skipped) = (0, 0);
            for slot in slots {
                let Some(reserved) = pool::find(&mut sessions_conn, *slot).await? else {
                    skipped += 1;
                    continue;
                };
                if reserved.ready {
                    skipped += 1;
                    continue;
                }
                let request = CloneRequest {
                    template_id: reserved.base_tenant_id,
                    virtual_tenant_id: *slot,
                    owner: CloneFor::WarmPool,
                    expires_at: pool::placeholder_expiry(),
                };
                cloner::create_virtual_tenant(&mut tenant, &request)
                    .await
                    .with_context(|| format!("pool slot {slot}"))?;
                cloner::copy_inventory(&mut inventory, &plan, &request)
                    .await
                    .with_context(|| format!("pool slot {slot}"))?;
                pool::mark_warm(&mut sessions_conn, *slot).await?;
                cloned += 1;
            }
            Ok(CloneOutcome::Warmed { cloned, skipped })
        }
    }
}

/// One connection with the database's limits (a pool of one: the Job does one thing).
async fn connect(database: &DatabaseSettings) -> anyhow::Result<PgConn> {
    let pool = db::build_pool_with_limits(&database.url, 1, database.limits)?;
    Ok(pool.get().await?)
}
