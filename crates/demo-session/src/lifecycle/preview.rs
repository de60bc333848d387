//! What a conversion would keep (the sign-up form's counts): read-only, for a running
//! session (docs/demo-sessions.md, "From demo to customer").

use bakery_config::demo::{SessionId, SessionStatus};

use super::DemoSessions;
use crate::convert::preview::{self, KeepPreview};
use crate::error::DemoError;

impl DemoSessions {
    /// Per data set, the rows of each table a conversion of this session would copy now.
    /// `401 session_expired` once it ended, `409 session_not_ready` while pending.
    pub async fn keep_preview(&self, id: &SessionId) -> Result<KeepPreview, DemoError> {
        let session = {
            let mut conn = self.pools.sessions.get().await?;
            crate::sessions::find(&mut conn, id)
                .await?
                .ok_or(DemoError::NotFound)?
        };
        match self.view(&session, None).status {
            SessionStatus::Ready => {}
            SessionStatus::Pending => return Err(DemoError::NotReady),
            SessionStatus::Expired | SessionStatus::Destroyed | SessionStatus::Failed => {
                return Err(DemoError::Expired);
            }
        }
        let mut inv = self.pools.inventory.get().await?;
        Ok(preview::keep_preview(&mut inv, &self.convert_plan, session.virtual_tenant_id).await?)
    }
}
