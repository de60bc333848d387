//! The public demo API (the contract in docs/api.md, "Demo sessions"; the lifecycle behind
//! it in docs/demo-sessions.md) and the admin endpoints.

use actix_web::{HttpResponse, web};
use bakery_config::auth::Identity;
use bakery_config::client::ClientAddress;
use bakery_config::demo::{AccountType, SessionId};
use bakery_config::funnel::{self, Event, MilestoneBatch, RawEvent, Screen};
use bakery_config::http::{ErrorBody, method_not_allowed};
use bakery_config::openapi::AllowedMethods;

use crate::convert::Keep;
use crate::error::DemoError;
use crate::funnel as milestones;
use crate::lifecycle::{ConvertForm, Created, DemoSessions};
use crate::openapi::{self as doc, CreateRequest};
use crate::queue::QueueToken;
use crate::startup::AdminKey;

/// One resource per path, so another method on a known path is `405`, not `404`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.app_data(AllowedMethods::from_document(&doc::document(), false));
    cfg.service(resource("/api/demo/accounts").route(web::get().to(accounts)))
        .service(resource("/api/demo/session/create").route(web::post().to(create)))
        .service(resource("/api/demo/queue/{token}").route(web::get().to(queue_place)))
        .service(
            resource("/api/demo/session/{id}")
                .route(web::get().to(get_session))
                .route(web::delete().to(destroy)),
        )
        .service(resource("/api/demo/session/{id}/extend").route(web::post().to(extend)))
        .service(resource("/api/demo/session/{id}/events").route(web::post().to(events)))
        .service(resource("/api/demo/session/{id}/checklist").route(web::get().to(checklist)))
        .service(resource("/api/demo/session/{id}/reset").route(web::post().to(reset)))
        .service(
            resource("/api/demo/session/{id}/convert")
                .route(web::get().to(convert_preview))
                .route(web::post().to(convert)),
        )
        .service(resource("/api/demo/stats").route(web::get().to(stats)))
        .service(resource("/api/demo/cleanup/run").route(web::post().to(cleanup)));
}

/// Routes for the other services only (never routed by the gateway, whose `/internal/*`
/// is `404`): the gateway's milestones.
pub fn configure_internal(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(funnel::INTERNAL_MILESTONES_PATH)
            .default_service(web::to(method_not_allowed))
            .route(web::post().to(internal_milestones)),
    );
}

type Sessions = web::Data<DemoSessions>;

/// The session the path names, when `identity` is that session's (the gateway forwards a
/// demo session's identity only after resolving it): `403 session_mismatch` otherwise.
fn own_session(raw: &str, identity: &Identity) -> Result<SessionId, DemoError> {
    let id = parse_id(raw)?;
    if identity.demo_session_id.as_deref() == Some(id.as_str()) {
        Ok(id)
    } else {
        Err(DemoError::NotThisSession)
    }
}

fn parse_id(raw: &str) -> Result<SessionId, DemoError> {
    raw.parse().map_err(|_| DemoError::NotFound)
}

/// Both demo accounts, with their published logins.
#[utoipa::path(get, path = "/api/demo/accounts", tag = "demo",
    responses((status = 200, description = "The demo accounts", body = doc::Accounts)))]
pub async fn accounts() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "accounts": bakery_demo_data::accounts() }))
}

/// Starts a demo session: a private copy of the chosen bakery.
#[utoipa::path(post, path = "/api/demo/session/create", tag = "demo",
    request_body = CreateRequest,
    responses(
        (status = 201, description = "Ready", body = doc::Session),
        (status = 202, description = "At the cap: a place in the waiting room (poll `GET /api/demo/queue/{token}`)", body = doc::QueuePlace),
        (status = 422, description = "`invalid_account_type` (or `invalid_body`)", body = ErrorBody),
        (status = 429, description = "`rate_limited` + `Retry-After`: too many sessions from this client", body = ErrorBody),
        (status = 503, description = "`capacity_reached` + `Retry-After` (the waiting room is full too), `demo_unavailable` (no template seeded), `demo_preparation_failed` (the clone failed; nothing was left behind), `unavailable`", body = ErrorBody),
    ))]
pub async fn create(
    sessions: Sessions,
    client: ClientAddress,
    body: web::Json<CreateRequest>,
) -> Result<HttpResponse, DemoError> {
    let account: AccountType = body
        .demo_account_type
        .parse()
        .map_err(|_| DemoError::UnknownAccountType)?;
    Ok(match sessions.create(account, client).await? {
        Created::Session(session) => HttpResponse::Created().json(session),
        Created::Queued(place) => HttpResponse::Accepted().json(place),
    })
}

/// A place in the waiting room: its progress, or, when its turn has come, the session.
#[utoipa::path(get, path = "/api/demo/queue/{token}", tag = "demo",
    params(doc::QueuePath),
    responses(
        (status = 200, description = "Still waiting (`status: queued`, a `QueuePlace`) or its turn came (`status: ready`, the session with its token)", body = doc::QueueProgress),
        (status = 401, description = "`session_expired`: the session made for this place has ended", body = ErrorBody),
        (status = 404, description = "`queue_place_not_found`: no such place, or given up (not polled for 30 s)", body = ErrorBody),
        (status = 503, description = "`capacity_reached`, `demo_unavailable`, `demo_preparation_failed`, `unavailable`", body = ErrorBody),
    ))]
pub async fn queue_place(
    sessions: Sessions,
    token: web::Path<String>,
) -> Result<HttpResponse, DemoError> {
    let token: QueueToken = token.parse().map_err(|()| DemoError::QueuePlaceUnknown)?;
    Ok(match sessions.poll_queue(&token).await? {
        Created::Session(session) => HttpResponse::Ok().json(session),
        Created::Queued(place) => HttpResponse::Ok().json(place),
    })
}

/// A session's state and time left.
#[utoipa::path(get, path = "/api/demo/session/{id}", tag = "demo",
    params(doc::SessionPath),
    responses(
        (status = 200, description = "The session", body = doc::Session),
        (status = 401, description = "`session_expired`: ended", body = ErrorBody),
        (status = 404, description = "`session_not_found`", body = ErrorBody),
    ))]
pub async fn get_session(
    sessions: Sessions,
    id: web::Path<String>,
) -> Result<HttpResponse, DemoError> {
    let session = sessions.get(&parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(session))
}

/// Adds 30 minutes, at most `max_extensions` times; answers a fresh session token.
#[utoipa::path(post, path = "/api/demo/session/{id}/extend", tag = "demo",
    params(doc::SessionPath),
    responses(
        (status = 200, description = "Extended", body = doc::Session),
        (status = 401, description = "`session_expired`", body = ErrorBody),
        (status = 404, description = "`session_not_found`", body = ErrorBody),
        (status = 409, description = "`max_extensions_reached`, `session_not_ready`", body = ErrorBody),
    ))]
pub async fn extend(sessions: Sessions, id: web::Path<String>) -> Result<HttpResponse, DemoError> {
    let session = sessions.extend(&parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(session))
}

/// Ends the session now and removes its data.
#[utoipa::path(delete, path = "/api/demo/session/{id}", tag = "demo",
    params(doc::SessionPath),
    responses(
        (status = 200, description = "Ended and removed", body = doc::Destroyed),
        (status = 202, description = "Ended; its data goes with the next cleanup pass", body = doc::Ended),
        (status = 401, description = "`session_expired`: already ended", body = ErrorBody),
        (status = 404, description = "`session_not_found`", body = ErrorBody),
    ))]
pub async fn destroy(sessions: Sessions, id: web::Path<String>) -> Result<HttpResponse, DemoError> {
    let id = parse_id(&id)?;
    Ok(match sessions.destroy(&id).await? {
        Some(removal) => HttpResponse::Ok().json(serde_json::json!({
            "session_id": removal.session_id,
            "status": "destroyed",
            "removed": removal,
        })),
        // ended now; its data goes with the next cleanup pass
        None => HttpResponse::Accepted().json(serde_json::json!({
            "session_id": id.as_str(),
            "status": "expired",
        })),
    })
}

/// What operators watch.
#[utoipa::path(get, path = "/api/demo/stats", tag = "demo",
    security(("admin_key" = [])),
    params(doc::StatsRange),
    responses(
        (status = 200, description = "Statistics", body = doc::Stats),
        (status = 400, description = "`invalid_range`: `from`/`to` not `YYYY-MM-DD`, reversed, or over 92 days", body = ErrorBody),
        (status = 401, description = "`admin_required`", body = ErrorBody),
    ))]
pub async fn stats(
    sessions: Sessions,
    _admin: AdminKey,
    range: web::Query<doc::StatsRange>,
) -> Result<HttpResponse, DemoError> {
    Ok(HttpResponse::Ok().json(
        sessions
            .stats(range.from.as_deref(), range.to.as_deref())
            .await?,
    ))
}

/// Checks a page's events against the vocabulary: `422 invalid_event` for a word or detail
/// outside it, `422 event_not_allowed` for a milestone only the server records.
fn page_events(raw: &[RawEvent]) -> Result<Vec<Event>, DemoError> {
    if raw.is_empty() || raw.len() > funnel::MAX_PAGE_EVENTS {
        return Err(DemoError::TooManyEventsInCall);
    }
    raw.iter()
        .map(|r| {
            let event =
                Event::parse(&r.milestone, &r.detail).map_err(|_| DemoError::InvalidEvent)?;
            // the recipe costing ticks the checklist: only the gateway, which served it, says so
            if !event.milestone().reported_by_page()
                || event.detail() == Screen::RecipeCosting.as_str()
            {
                return Err(DemoError::EventNotAllowed);
            }
            Ok(event)
        })
        .collect()
}

/// What the demo page saw: screens viewed, sign-up started (closed vocabulary, at most 20
/// events a call, rate-limited per session). The first occurrence of each is kept.
#[utoipa::path(post, path = "/api/demo/session/{id}/events", tag = "demo",
    params(doc::SessionPath),
    request_body = doc::PageEvents,
    responses(
        (status = 202, description = "Recorded (`recorded`: how many were new)", body = doc::Recorded),
        (status = 401, description = "`missing_credentials`, `invalid_credentials`, `session_expired`", body = ErrorBody),
        (status = 403, description = "`session_mismatch`: the credential is another session's", body = ErrorBody),
        (status = 404, description = "`session_not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_event` (outside the vocabulary), `event_not_allowed` (a milestone only the server records), `too_many_events` (none, or more than 20), `invalid_body`", body = ErrorBody),
        (status = 429, description = "`rate_limited` + `Retry-After`: more than `DEMO_EVENTS_PER_MINUTE` calls this minute", body = ErrorBody),
    ))]
pub async fn events(
    sessions: Sessions,
    id: web::Path<String>,
    identity: Identity,
    body: web::Json<doc::PageEvents>,
) -> Result<HttpResponse, DemoError> {
    let id = own_session(&id, &identity)?;
    let events = page_events(&body.events)?;
    let recorded = sessions.page_events(&id, events).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "recorded": recorded })))
}

/// The guided checklist: what the prospect has tried, as the server saw it.
#[utoipa::path(get, path = "/api/demo/session/{id}/checklist", tag = "demo",
    params(doc::SessionPath),
    responses(
        (status = 200, description = "The checklist", body = milestones::Checklist),
        (status = 401, description = "`missing_credentials`, `invalid_credentials`, `session_expired`", body = ErrorBody),
        (status = 403, description = "`session_mismatch`: the credential is another session's", body = ErrorBody),
        (status = 404, description = "`session_not_found`", body = ErrorBody),
    ))]
pub async fn checklist(
    sessions: Sessions,
    id: web::Path<String>,
    identity: Identity,
) -> Result<HttpResponse, DemoError> {
    let id = own_session(&id, &identity)?;
    Ok(HttpResponse::Ok().json(sessions.checklist(&id).await?))
}

/// Puts the session's bakery back as it was when the demo started (rebased to today);
/// same session, expiry and extensions.
#[utoipa::path(post, path = "/api/demo/session/{id}/reset", tag = "demo",
    params(doc::SessionPath),
    responses(
        (status = 200, description = "Reset; the session as it is (with a fresh session token)", body = doc::Session),
        (status = 401, description = "`missing_credentials`, `invalid_credentials`, `session_expired`", body = ErrorBody),
        (status = 403, description = "`session_mismatch`: the credential is another session's", body = ErrorBody),
        (status = 404, description = "`session_not_found`", body = ErrorBody),
        (status = 409, description = "`session_not_ready`", body = ErrorBody),
        (status = 429, description = "`rate_limited` + `Retry-After`: more than 3 resets this minute", body = ErrorBody),
    ))]
pub async fn reset(
    sessions: Sessions,
    id: web::Path<String>,
    identity: Identity,
) -> Result<HttpResponse, DemoError> {
    let id = own_session(&id, &identity)?;
    Ok(HttpResponse::Ok().json(sessions.reset(&id).await?))
}

/// The sign-up form, checked field by field (`422` with the field's code).
fn convert_form(body: doc::ConvertRequest) -> Result<ConvertForm, DemoError> {
    let invalid = |code, message| DemoError::InvalidSignup { code, message };
    let name = |raw: &str, code, message| {
        let trimmed = raw.trim();
        if (1..=200).contains(&trimmed.chars().count()) && !trimmed.chars().any(char::is_control) {
            Ok(trimmed.to_owned())
        } else {
            Err(invalid(code, message))
        }
    };
    Ok(ConvertForm {
        bakery_name: name(
            &body.bakery_name,
            "invalid_bakery_name",
            "Escribe el nombre de tu panadería (hasta 200 caracteres).",
        )?,
        owner_name: name(
            &body.owner_name,
            "invalid_owner_name",
            "Escribe tu nombre (hasta 200 caracteres).",
        )?,
        email: bakery_tenant::domain::Email::parse(&body.email)
            .map_err(|message| invalid("invalid_email", message))?,
        password: bakery_tenant::domain::Password::parse_new(body.password)
            .map_err(|message| invalid("weak_password", message))?,
        keep: Keep::parse(&body.keep).map_err(|_| {
            invalid(
                "invalid_keep",
                "Elige qué conservar entre catalog, suppliers, stock, orders y sales.",
            )
        })?,
    })
}

/// Turns the demo into a customer account keeping the chosen data; the session ends.
/// One account per session: a retry answers the same account.
#[utoipa::path(post, path = "/api/demo/session/{id}/convert", tag = "demo",
    params(doc::SessionPath),
    request_body = doc::ConvertRequest,
    responses(
        (status = 201, description = "The account (a retry answers the same account with a fresh token)", body = doc::Converted),
        (status = 401, description = "`missing_credentials`, `invalid_credentials`, `session_expired`", body = ErrorBody),
        (status = 403, description = "`session_mismatch`: the credential is another session's", body = ErrorBody),
        (status = 404, description = "`session_not_found`", body = ErrorBody),
        (status = 409, description = "`email_taken`, `session_not_ready`", body = ErrorBody),
        (status = 410, description = "`account_not_found`: the account this session made was removed", body = ErrorBody),
        (status = 422, description = "`invalid_bakery_name`, `invalid_owner_name`, `invalid_email`, `weak_password`, `invalid_keep`, `invalid_body`", body = ErrorBody),
        (status = 429, description = "`rate_limited` + `Retry-After`: more than `DEMO_CONVERSIONS_PER_HOUR` from this client", body = ErrorBody),
        (status = 503, description = "`conversion_failed` + `Retry-After` (nothing was kept), `unavailable`", body = ErrorBody),
    ))]
pub async fn convert(
    sessions: Sessions,
    id: web::Path<String>,
    identity: Identity,
    client: ClientAddress,
    body: web::Json<doc::ConvertRequest>,
) -> Result<HttpResponse, DemoError> {
    let id = own_session(&id, &identity)?;
    let form = convert_form(body.into_inner())?;
    let converted = sessions.convert(&id, client, form).await?;
    Ok(HttpResponse::Created().json(converted))
}

/// What signing up now would keep: per data set (`keep`), the rows of each table it
/// copies, counted with the conversion's own plan (the sign-up form shows them).
#[utoipa::path(get, path = "/api/demo/session/{id}/convert", tag = "demo",
    params(doc::SessionPath),
    responses(
        (status = 200, description = "Rows per table of each data set", body = crate::convert::preview::KeepPreview),
        (status = 401, description = "`missing_credentials`, `invalid_credentials`, `session_expired`", body = ErrorBody),
        (status = 403, description = "`session_mismatch`: the credential is another session's", body = ErrorBody),
        (status = 404, description = "`session_not_found`", body = ErrorBody),
        (status = 409, description = "`session_not_ready`", body = ErrorBody),
    ))]
pub async fn convert_preview(
    sessions: Sessions,
    id: web::Path<String>,
    identity: Identity,
) -> Result<HttpResponse, DemoError> {
    let id = own_session(&id, &identity)?;
    Ok(HttpResponse::Ok().json(sessions.keep_preview(&id).await?))
}

/// `POST /internal/demo/milestones` (a service identity: the gateway): milestones the
/// gateway saw. Events outside the vocabulary or of unknown sessions are skipped.
pub async fn internal_milestones(
    sessions: Sessions,
    identity: Identity,
    body: web::Json<MilestoneBatch>,
) -> Result<HttpResponse, DemoError> {
    if !identity.is_service() {
        return Err(DemoError::ServiceRequired);
    }
    let events: Vec<(String, Event)> = body
        .events
        .iter()
        .take(funnel::MAX_INTERNAL_BATCH)
        .filter(|e| e.session_id.parse::<SessionId>().is_ok())
        .filter_map(|e| {
            Event::parse(&e.milestone, &e.detail)
                .ok()
                .map(|event| (e.session_id.clone(), event))
        })
        .collect();
    let recorded = sessions.record_milestones(&events).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "recorded": recorded })))
}

/// Runs a cleanup pass now.
#[utoipa::path(post, path = "/api/demo/cleanup/run", tag = "demo",
    security(("admin_key" = [])),
    responses(
        (status = 200, description = "What the pass removed", body = crate::lifecycle::CleanupReport),
        (status = 401, description = "`admin_required`", body = ErrorBody),
    ))]
pub async fn cleanup(sessions: Sessions, _admin: AdminKey) -> Result<HttpResponse, DemoError> {
    Ok(HttpResponse::Ok().json(sessions.cleanup().await?))
}
