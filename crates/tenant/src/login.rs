//! Login: address and password in, an access token (customers) or a fresh demo session
//! (published demo accounts) out.
//!
//! 1. The limiter is asked first ([`throttle`](crate::throttle)): a client refused for
//!    this address, or altogether, gets `429` for one Redis round trip — no database
//!    query, no hashing.
//! 2. The user is looked up by address across tenants (`queries::find_login`), and the
//!    connection goes back to the pool at once.
//! 3. An address under attack (many failures from every client) waits the limiter's delay
//!    here, holding no database connection, so a flood of slowed attempts cannot starve
//!    the pool. Published demo accounts never wait.
//! 4. The password is verified with argon2 on a blocking thread — against a dummy hash when
//!    the address is unknown, so unknown addresses and wrong passwords take as long and
//!    get the same answer (and are counted and slowed down alike).
//! 5. A demo account's tenant is a template: no token is ever issued for it; demo-session
//!    creates a session (a private copy) instead.

use std::sync::Arc;

use bakery_config::client::ClientAddress;
use bakery_config::demo::AccountType;

use crate::access::IssuedToken;
use crate::demo_client::Forwarded;
use crate::domain::{Email, Password};
use crate::error::TenantError;
use crate::metrics::LoginOutcome as Counted;
use crate::models::{Tenant, User};
use crate::password;
use crate::queries;
use crate::startup::AppState;
use crate::throttle::{Attempt, Verdict};

pub struct LoginAttempt {
    pub email: Email,
    pub password: Password,
    /// The client, for the limiter: the one the gateway asserted, else the peer.
    pub client: ClientAddress,
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
    let hash = tokio::task::spawn_blocking(move || password::hash(&random)).await??;
    Ok(Arc::from(hash))
}

/// A user found by address, with their tenant.
type Found = Option<(User, Tenant)>;

/// [`attempt_login`], its outcome counted (`bakery_login_attempts_total`).
pub async fn login(state: &AppState, attempt: LoginAttempt) -> Result<LoginOutcome, TenantError> {
    let mut failure = None;
    let result = attempt_login(state, attempt, &mut failure).await;
    state.metrics.login(match (&result, failure) {
        (Ok(LoginOutcome::Customer(_)), _) => Counted::ok,
        (Ok(LoginOutcome::Demo { .. }), _) => Counted::demo,
        (Err(TenantError::TooManyAttempts { .. }), _) => Counted::locked,
        (Err(_), Some(failure)) => failure,
        (Err(_), None) => Counted::error,
    });
    result
}

async fn attempt_login(
    state: &AppState,
    attempt: LoginAttempt,
    failure: &mut Option<Counted>,
) -> Result<LoginOutcome, TenantError> {
    let LoginAttempt {
        email,
        password,
        client,
        forwarded,
    } = attempt;
    let subject = Attempt {
        email: &email,
        client,
    };
    let account_delay = match state.throttle.check(subject).await {
        Verdict::Blocked { retry_after } => {
            return Err(TenantError::TooManyAttempts { retry_after });
        }
        Verdict::Allowed { account_delay } => account_delay,
    };
    let found = {
        let mut conn = state.pool.get().await?;
        queries::find_login(&mut conn, &email).await?
    };
    // Published demo accounts are shared by every prospect: they are never slowed down and
    // their failures are not counted per address, so nobody can spoil the demo for everyone.
    let public_demo_account = found.as_ref().is_some_and(|(_, t)| t.is_demo_template);
    if !public_demo_account && !account_delay.is_zero() {
        tracing::info!(
            delay_ms = account_delay.as_millis(),
            "login slowed down: address under attack"
        );
        tokio::time::sleep(account_delay).await;
    }
    *failure = Some(match &found {
        None => Counted::unknown_email,
        Some(_) => Counted::wrong_password,
    });
    let (found, password_matched) = authenticate(state, password, found).await?;
    if password_matched {
        *failure = Some(Counted::inactive);
    }
    let Some((user, tenant)) = found else {
        state
            .throttle
            .record_failure(subject, public_demo_account)
            .await;
        return Err(TenantError::InvalidCredentials);
    };
    *failure = None;
    state.throttle.clear(subject).await;
    if tenant.is_demo_template {
        demo_login(state, &tenant, &forwarded).await
    } else {
        customer_login(state, user, tenant)
    }
}

/// The user and tenant `password` opens, if any, and whether the password matched. The
/// password is checked even when the address is unknown (against the dummy hash), so both
/// cost the same.
async fn authenticate(
    state: &AppState,
    password: Password,
    found: Found,
) -> Result<(Found, bool), TenantError> {
    let known = found.is_some();
    let stored_hash: Arc<str> = match &found {
        Some((user, _)) => Arc::from(user.password_hash.as_str()),
        None => state.dummy_hash.clone(),
    };
    let matches =
        tokio::task::spawn_blocking(move || password::verify(password.expose(), &stored_hash))
            .await?;
    let opened = found.filter(|(user, tenant)| {
        // virtual tenants have no users; one that had would still not log in
        matches && user.is_active && !tenant.is_demo
    });
    Ok((opened, known && matches))
}

/// A published demo account: never a token for its template tenant, a fresh demo session
/// (a private copy) from demo-session instead.
async fn demo_login(
    state: &AppState,
    template: &Tenant,
    forwarded: &Forwarded,
) -> Result<LoginOutcome, TenantError> {
    let account_type = template
        .demo_account_type
        .as_deref()
        .and_then(|t| t.parse::<AccountType>().ok())
        .ok_or(TenantError::TemplateWithoutAccountType(template.id))?;
    tracing::info!(%account_type, "demo account login: creating a demo session");
    let session = state.demo.create_session(account_type, forwarded).await?;
    Ok(LoginOutcome::Demo { session })
}

fn customer_login(
    state: &AppState,
    user: User,
    tenant: Tenant,
) -> Result<LoginOutcome, TenantError> {
    let token = state.tokens.issue(&user, &tenant)?;
    tracing::info!(user_id = %user.id, tenant_id = %tenant.id, "login");
    Ok(LoginOutcome::Customer(Box::new(CustomerLogin {
        token,
        user,
        tenant,
    })))
}
