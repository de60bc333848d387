//! The demo funnel's server-side milestones the gateway sees (docs/demo-sessions.md, "The
//! funnel"): a demo request the policy refused (`blocked_action`, by rule), a demo
//! session's first successful write of each kind (`first_write`: sale, order,
//! adjustment), and a recipe's costing served (`screen_viewed:recipe_costing`).
//!
//! Requests never wait for them: [`Milestones::report`] puts the event on a **bounded**
//! queue (full → dropped and counted, `bakery_gateway_milestones_dropped_total`), after a
//! bounded cache of what was already sent (so a hot loop of writes costs a cache lookup),
//! and [`deliver`] — one background task — posts batches to demo-session's
//! `POST /internal/demo/milestones` with a service identity signed with
//! `INTERNAL_TOKEN_SECRET`. That path is never routed by the gateway (`/internal/*` is
//! `404` on the public port).

use std::time::Duration;

use actix_web::http::Method;
use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, TokenKeys};
use bakery_config::env::Secret;
use bakery_config::funnel::{
    Event, INTERNAL_MILESTONES_PATH, MAX_INTERNAL_BATCH, MilestoneBatch, Screen, SessionEvent,
    WriteKind,
};
use moka::sync::Cache;
use tokio::sync::mpsc;

use crate::metrics::GatewayMetrics;

/// Events waiting for the background task; past this they are dropped.
pub const QUEUE_CAPACITY: usize = 1_024;
/// (session, milestone, detail) remembered as sent.
const SENT_ENTRIES: u64 = 100_000;
/// A session lives at most 2 h (30 min + 3 × 30 min extensions).
const SENT_FOR: Duration = Duration::from_secs(2 * 60 * 60 + 600);
/// How long one delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The sending side, shared by every worker.
pub struct Milestones {
    queue: mpsc::Sender<SessionEvent>,
    sent: Cache<String, ()>,
    metrics: GatewayMetrics,
}

/// The receiving side, for [`deliver`].
pub struct Queue {
    events: mpsc::Receiver<SessionEvent>,
    sent: Cache<String, ()>,
}

fn key(session_id: &str, milestone: &str, detail: &str) -> String {
    format!("{session_id}\u{0}{milestone}\u{0}{detail}")
}

impl Milestones {
    /// A queue of `capacity` events.
    pub fn new(capacity: usize, metrics: GatewayMetrics) -> (Self, Queue) {
        let (queue, events) = mpsc::channel(capacity.max(1));
        let sent = Cache::builder()
            .max_capacity(SENT_ENTRIES)
            .time_to_live(SENT_FOR)
            .build();
        (
            Milestones {
                queue,
                sent: sent.clone(),
                metrics,
            },
            Queue { events, sent },
        )
    }

    /// Queues `event` of `session_id` unless it was already sent; never waits.
    pub fn report(&self, session_id: &str, event: &Event) {
        let key = key(session_id, event.milestone().as_str(), event.detail());
        if self.sent.contains_key(&key) {
            return;
        }
        let sent = SessionEvent {
            session_id: session_id.to_owned(),
            milestone: event.milestone().as_str().to_owned(),
            detail: event.detail().to_owned(),
        };
        match self.queue.try_send(sent) {
            Ok(()) => self.sent.insert(key, ()),
            Err(_) => self.metrics.milestone_dropped(),
        }
    }
}

/// What a demo session's request that got a `2xx` says about the funnel: a first write of
/// a kind, or a recipe's costing read (`GET /api/recipes…` answers recipes with their
/// costs). `match_path` is the normalised, lower-case path.
pub fn observed(method: &Method, match_path: &str) -> Option<Event> {
    if method == Method::POST {
        let kind = match match_path {
            "/api/pos/sales" => WriteKind::Sale,
            "/api/orders" => WriteKind::Order,
            "/api/inventory/adjustments" => WriteKind::Adjustment,
            _ => return None,
        };
        return Some(Event::first_write(kind));
    }
    let recipes = match_path
        .strip_prefix("/api/recipes")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    (method == Method::GET && recipes).then(|| Event::screen(Screen::RecipeCosting))
}

/// Drains the queue: a batch of whatever is waiting (at most
/// [`MAX_INTERNAL_BATCH`]) per call to demo-session. A batch that cannot be delivered is
/// logged and counted, and forgotten as sent, so the next occurrence tries again.
pub async fn deliver(
    mut queue: Queue,
    client: reqwest::Client,
    demo_session_url: String,
    internal_secret: Secret,
    metrics: GatewayMetrics,
) {
    let keys = TokenKeys::new(&internal_secret, INTERNAL_AUDIENCE);
    let url = format!("{demo_session_url}{INTERNAL_MILESTONES_PATH}");
    let mut batch = Vec::with_capacity(MAX_INTERNAL_BATCH);
    loop {
        batch.clear();
        if queue.events.recv_many(&mut batch, MAX_INTERNAL_BATCH).await == 0 {
            return;
        }
        let body = MilestoneBatch {
            events: std::mem::take(&mut batch),
        };
        let outcome = send(&client, &url, &keys, &body).await;
        if let Err(error) = outcome {
            tracing::warn!(%error, events = body.events.len(), "funnel milestones not delivered");
            metrics.milestones_undelivered(body.events.len());
            for e in &body.events {
                queue
                    .sent
                    .invalidate(&key(&e.session_id, &e.milestone, &e.detail));
            }
        }
        batch = body.events;
    }
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    keys: &TokenKeys,
    body: &MilestoneBatch,
) -> anyhow::Result<()> {
    let identity = keys.sign(&Identity::service(crate::startup::NAME, 60))?;
    let answer = client
        .post(url)
        .bearer_auth(identity)
        .json(body)
        .timeout(DELIVERY_TIMEOUT)
        .send()
        .await?;
    anyhow::ensure!(
        answer.status().is_success(),
        "demo-session answered {}",
        answer.status()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_recipe_reads_are_milestones() {
        let first = |m: Method, p: &str| observed(&m, p).map(|e| e.detail().to_owned());
        assert_eq!(
            first(Method::POST, "/api/pos/sales").as_deref(),
            Some("sale")
        );
        assert_eq!(first(Method::POST, "/api/orders").as_deref(), Some("order"));
        assert_eq!(
            first(Method::POST, "/api/inventory/adjustments").as_deref(),
            Some("adjustment")
        );
        assert_eq!(
            first(Method::GET, "/api/recipes").as_deref(),
            Some("recipe_costing")
        );
        assert_eq!(first(Method::GET, "/api/recipesx"), None);
        assert_eq!(first(Method::HEAD, "/api/recipes"), None);
        assert_eq!(first(Method::GET, "/api/orders"), None);
        assert_eq!(first(Method::POST, "/api/orders/7"), None);
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let metrics = GatewayMetrics::default();
        let (milestones, _queue) = Milestones::new(2, metrics.clone());
        let session = "demo_abcdefghijklmnopqrstuvwxyz0123456789";
        for kind in WriteKind::ALL {
            // never blocks: the third finds the queue full
            milestones.report(session, &Event::first_write(*kind));
        }
        assert_eq!(metrics.milestones_dropped(), 1);
        // what was queued is remembered: sending it again costs nothing
        milestones.report(session, &Event::first_write(WriteKind::Sale));
        assert_eq!(metrics.milestones_dropped(), 1);
        // what was dropped was not: it is tried again (and dropped again, still full)
        milestones.report(session, &Event::first_write(WriteKind::Adjustment));
        assert_eq!(metrics.milestones_dropped(), 2);
    }
}
