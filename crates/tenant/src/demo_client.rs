//! The one call tenant-service makes to demo-session: create a session for a demo account
//! (docs/api-tenant.md, "`POST /api/auth/login`").
//! `POST {DEMO_SESSION_URL}/api/demo/session/create` `{"demo_account_type": …}`,
//! forwarding `X-Request-Id` and the gateway's client assertion ([`CLIENT_HEADER`]) as it
//! came: demo-session verifies it like tenant-service did and rate-limits the client it
//! names. The assertion is short-lived, but a demo login calls demo-session within the
//! same request, well inside its lifetime.
//!
//! A login that came without an assertion (a direct call, not through the gateway) forwards
//! none, and demo-session then sees tenant-service itself as the client. `X-Forwarded-For`
//! is never sent: services do not read it.

use std::time::Duration;

use actix_web::http::StatusCode;
use bakery_config::client::CLIENT_HEADER;
use bakery_config::demo::AccountType;
use bakery_config::http::ErrorBody;
use bakery_config::telemetry::{REQUEST_ID_HEADER, TRACEPARENT_HEADER};
use serde::Serialize;

use crate::error::TenantError;

/// Why demo-session gave no answer tenant-service can pass on.
#[derive(Debug, thiserror::Error)]
pub enum DemoCallError {
    /// No answer: no connection, a timeout, a body cut short.
    #[error(transparent)]
    Request(#[from] reqwest::Error),
    /// A status code no HTTP answer should carry.
    #[error("invalid status code {0}")]
    InvalidStatus(u16),
    /// A refusal for load (`502`, `503`, `504`) without demo-session's envelope: a proxy
    /// in between, or demo-session not up.
    #[error("{0}")]
    Busy(StatusCode),
    /// A success without the session object.
    #[error("{0} without a JSON object")]
    NotAnObject(StatusCode),
    /// Any other status without demo-session's error envelope.
    #[error("{0} without an error envelope")]
    NoEnvelope(StatusCode),
}

/// What is passed on from the prospect's request.
#[derive(Debug, Clone, Default)]
pub struct Forwarded {
    /// The client assertion the gateway signed, exactly as received (already verified).
    pub client_assertion: Option<String>,
    pub request_id: Option<String>,
    /// `traceparent`, so demo-session's work joins the prospect's trace.
    pub traceparent: Option<String>,
}

#[derive(Clone)]
pub struct DemoSessionClient {
    http: reqwest::Client,
    create_url: String,
}

#[derive(Serialize)]
struct CreateBody {
    demo_account_type: AccountType,
}

impl DemoSessionClient {
    /// `base_url` is `DEMO_SESSION_URL`; `timeout` bounds the whole call (creation clones
    /// a bakery, so it is generous).
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, TenantError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3).min(timeout))
            .pool_idle_timeout(bakery_config::server::CLIENT_POOL_IDLE)
            .no_proxy()
            .build()
            .map_err(TenantError::HttpClient)?;
        Ok(DemoSessionClient {
            http,
            create_url: format!("{}/api/demo/session/create", base_url.trim_end_matches('/')),
        })
    }

    /// demo-session's `201` body, as it is; its refusals with their status and envelope.
    pub async fn create_session(
        &self,
        account_type: AccountType,
        forwarded: &Forwarded,
    ) -> Result<serde_json::Value, TenantError> {
        let mut request = self.http.post(&self.create_url).json(&CreateBody {
            demo_account_type: account_type,
        });
        if let Some(assertion) = &forwarded.client_assertion {
            request = request.header(CLIENT_HEADER, assertion);
        }
        if let Some(id) = &forwarded.request_id {
            request = request.header(REQUEST_ID_HEADER.as_str(), id);
        }
        if let Some(traceparent) = &forwarded.traceparent {
            request = request.header(TRACEPARENT_HEADER.as_str(), traceparent);
        }
        let unavailable = |e: reqwest::Error| TenantError::DemoUnavailable(e.into());
        let response = request.send().await.map_err(unavailable)?;
        let code = response.status().as_u16();
        let status = StatusCode::from_u16(code)
            .map_err(|_| TenantError::DemoBadAnswer(DemoCallError::InvalidStatus(code)))?;
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response.bytes().await.map_err(unavailable)?;
        if status.is_success() {
            return match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(body @ serde_json::Value::Object(_)) => Ok(body),
                _ => Err(TenantError::DemoBadAnswer(DemoCallError::NotAnObject(
                    status,
                ))),
            };
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(envelope) if status.is_client_error() || status.is_server_error() => {
                Err(TenantError::DemoRefused {
                    status,
                    code: envelope.error,
                    message: envelope.message,
                    retry_after,
                })
            }
            _ if matches!(
                status,
                StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ) =>
            {
                Err(TenantError::DemoUnavailable(DemoCallError::Busy(status)))
            }
            _ => Err(TenantError::DemoBadAnswer(DemoCallError::NoEnvelope(
                status,
            ))),
        }
    }
}
