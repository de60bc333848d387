//! Login: address and password in, an access token (customers) or a fresh demo session
//! (published demo accounts) out.
//!
//! 1. The user is looked up by address across tenants (`queries::find_login`).
//! 2. The limiter is asked before any hashing, so a throttled attempt costs little.
//! 3. The password is verified with argon2 on a blocking thread — against a dummy hash when
//!    the address is unknown, so unknown addresses and wrong passwords take as long and
//!    get the same answer.
//! 4. A demo account's tenant is a template: no token is ever issued for it; demo-session
//!    creates a session (a private copy) instead.

use std::net::IpAddr;
use std::sync::Arc;

use bakery_config::demo::AccountType;

use crate::access::IssuedToken;
use crate::demo_client::Forwarded;
use crate::domain::{Email, Password};
use crate::error::TenantError;
use crate::models::{Tenant, User};
use crate::password;
use crate::queries;
use crate::startup::AppState;
use crate::throttle::{Subject, Verdict};

pub struct LoginAttempt {
    pub email: Email,
    pub password: Password,
    /// The client, for the limiter: the rightmost `X-Forwarded-For` entry, else the peer.
    pub client_ip: Option<IpAddr>,
    /// Passed on to demo-session for demo logins.
    pub forwarded: Forwarded,
}

pub enum LoginOutcome {
    Customer(Box<CustomerLogin>),
    /// demo-session's answer to `POST /api/demo/session/create`, as it is.
    Demo {
        session: serde_json::Value,
    },
}

/// A customer's successful login.
pub struct CustomerLogin {
    pub token: IssuedToken,
    pub user: User,
    pub tenant: Tenant,
}

/// A hash no password matches in practice, with the same parameters as real ones, so
/// verifying against it costs what verifying a real one does.
pub async fn dummy_hash() -> Result<Arc<str>, TenantError> {
    let random = uuid::Uuid::new_v4().to_string();
    tokio::task::spawn_blocking(move || password::hash(&random))
        .await
        .map_err(|e| TenantError::Internal(e.to_string()))?
        .map(Arc::from)
        .map_err(|e| TenantError::Internal(e.to_string()))
}

pub async fn login(state: &AppState, attempt: LoginAttempt) -> Result<LoginOutcome, TenantError> {
    let LoginAttempt {
        email,
        password,
        client_ip,
        forwarded,
    } = attempt;

    let found = {
        let mut conn = state.pool.get().await?;
        queries::find_login(&mut conn, &email).await?
    };
    // Published demo accounts are shared by every prospect: failures are counted per
    // client only, so nobody can lock the demo out for everyone by failing on purpose.
    let public_demo_account = found.as_ref().is_some_and(|(_, t)| t.is_demo_template);
    let mut subjects = Vec::with_capacity(2);
    if !public_demo_account {
        subjects.push(Subject::Address(&email));
    }
    subjects.extend(client_ip.map(Subject::Client));

    if let Verdict::Blocked { retry_after } = state.throttle.check(&subjects).await {
        return Err(TenantError::TooManyAttempts { retry_after });
    }
    let stored_hash: Arc<str> = match &found {
        Some((user, _)) => Arc::from(user.password_hash.as_str()),
        None => state.dummy_hash.clone(),
    };
    let matches =
        tokio::task::spawn_blocking(move || password::verify(password.expose(), &stored_hash))
            .await
            .map_err(|e| TenantError::Internal(e.to_string()))?;

    let (user, tenant) = match found {
        // virtual tenants have no users; one that had would still not log in
        Some((user, tenant)) if matches && user.is_active && !tenant.is_demo => (user, tenant),
        _ => {
            state.throttle.record_failure(&subjects).await;
            return Err(TenantError::InvalidCredentials);
        }
    };
    state.throttle.clear(&email).await;

    if tenant.is_demo_template {
        let account_type = tenant
            .demo_account_type
            .as_deref()
            .and_then(|t| t.parse::<AccountType>().ok())
            .ok_or_else(|| {
                TenantError::Internal(format!("template {} has no account type", tenant.id))
            })?;
        tracing::info!(%account_type, "demo account login: creating a demo session");
        let session = state.demo.create_session(account_type, &forwarded).await?;
        return Ok(LoginOutcome::Demo { session });
    }

    let token = state.tokens.issue(&user, &tenant)?;
    tracing::info!(user_id = %user.id, tenant_id = %tenant.id, "login");
    Ok(LoginOutcome::Customer(Box::new(CustomerLogin {
        token,
        user,
        tenant,
    })))
}
