//! The waiting room's side of the lifecycle: what a place in line answers, and a poll
//! that admits its holder when its turn comes (the line itself: `crate::queue`).

use bakery_config::db::AsyncPgConnection;
use bakery_config::demo::SessionStatus;
use chrono::Utc;
use serde::Serialize;

use super::{Created, DemoSessions, Line};
use crate::error::DemoError;
use crate::queue::{self, POLL_AFTER_SECS, Place, QueueToken};
use crate::sessions;

/// A place in line: `202` from create, `200` from `GET /api/demo/queue/{token}` until its
/// turn comes.
#[derive(Debug, Clone, Serialize)]
pub struct QueueView {
    /// Always `queued`.
    pub status: &'static str,
    /// `1` is next; `0`: its session is being prepared.
    pub queue_position: i64,
    /// From the pace the line moved at in the last minute; while it has not moved yet, when
    /// the sessions that must end before its turn are due to end (an upper bound:
    /// prospects who leave early free their place sooner).
    pub estimated_wait_seconds: i64,
    pub queue_token: String,
    /// Poll again after this long; a place not polled for 30 s is given up.
    pub poll_after_seconds: u64,
}

impl DemoSessions {
    /// `GET /api/demo/queue/{token}`: the place's progress, or, when its turn has come, its
    /// session (ready, with its token). Polling keeps the place; a poll whose answer was
    /// lost is answered the same session by the next one.
    pub async fn poll_queue(&self, token: &QueueToken) -> Result<Created, DemoError> {
        let mut conn = self.pools.sessions.get().await?;
        let place = queue::find(&mut conn, token.as_str())
            .await?
            .ok_or(DemoError::QueuePlaceUnknown)?;
        if place.session_id.is_some() {
            return self.admitted(&mut conn, &place).await;
        }
        queue::touch(&mut conn, token.as_str()).await?;
        let cap = i64::from(self.settings.max_active_sessions);
        if sessions::count_active(&mut conn).await? + place.ahead >= cap {
            return Ok(Created::Queued(self.queue_view(&mut conn, &place).await?));
        }
        drop(conn);
        // its turn: admitted like a create, without the rate limit (the create that took
        // the place counted)
        let account = place.demo_account_type;
        let admission = self
            .admission_for(account, place.client_ip_hash.clone())
            .await?;
        let created = self
            .admit_and_make(admission, Line::Place(token.as_str()))
            .await;
        if let Ok(Created::Session(_)) = &created {
            let waited = (Utc::now() - place.enqueued_at)
                .to_std()
                .unwrap_or_default();
            self.metrics.queue_admitted(account, waited);
        }
        self.count_create(account, &created);
        created
    }

    /// A place whose session was made: the session, once ready.
    async fn admitted(
        &self,
        conn: &mut AsyncPgConnection,
        place: &Place,
    ) -> Result<Created, DemoError> {
        let id = place
            .session_id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .ok_or(DemoError::QueuePlaceUnknown)?;
        let session = sessions::find(conn, &id)
            .await?
            .ok_or(DemoError::QueuePlaceUnknown)?;
        match session.status {
            SessionStatus::Ready if session.expires_at > Utc::now() => {
                let token = self.sign_token(&session)?;
                Ok(Created::Session(self.view(&session, Some(token))))
            }
            SessionStatus::Pending => Ok(Created::Queued(self.queue_view(conn, place).await?)),
            _ => Err(DemoError::Expired),
        }
    }

    /// What a place answers: its position and the estimated wait.
    pub(super) async fn queue_view(
        &self,
        conn: &mut AsyncPgConnection,
        place: &Place,
    ) -> Result<QueueView, DemoError> {
        let (position, wait) = if place.session_id.is_some() {
            (0, 1)
        } else {
            let cap = i64::from(self.settings.max_active_sessions);
            let active = sessions::count_active(conn).await?;
            // sessions that must end before this place's turn
            let must_end = active + place.ahead + 1 - cap;
            let wait = if must_end <= 0 {
                1
            } else {
                // the bound: every session ahead runs to its end
                let bound = match queue::nth_end(conn, must_end).await? {
                    Some(end) => (end - Utc::now()).num_seconds().max(1),
                    None => i64::try_from(self.settings.demo.session_duration.as_secs())
                        .unwrap_or(i64::MAX),
                };
                // the pace: prospects leave long before their 30 minutes (the simulator's
                // line announced 30 minutes and moved in 20 s)
                match queue::admitted_last_minute(conn).await? {
                    0 => bound,
                    per_minute => (must_end.saturating_mul(60).saturating_add(per_minute - 1)
                        / per_minute)
                        .clamp(1, bound),
                }
            };
            (place.position(), wait)
        };
        Ok(QueueView {
            status: "queued",
            queue_position: position,
            estimated_wait_seconds: wait,
            queue_token: place.token.clone(),
            poll_after_seconds: POLL_AFTER_SECS,
        })
    }
}
