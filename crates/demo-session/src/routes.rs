//! The public demo API (the contract in docs/api.md, "Demo sessions"; the lifecycle behind
//! it in docs/demo-sessions.md) and the admin endpoints.

use actix_web::{HttpResponse, web};
use bakery_config::client::ClientAddress;
use bakery_config::demo::{AccountType, SessionId};
use serde::Deserialize;

use crate::error::DemoError;
use crate::lifecycle::DemoSessions;
use crate::startup::AdminKey;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/demo")
            .route("/accounts", web::get().to(accounts))
            .route("/session/create", web::post().to(create))
            .route("/session/{id}", web::get().to(get_session))
            .route("/session/{id}", web::delete().to(destroy))
            .route("/session/{id}/extend", web::post().to(extend))
            .route("/stats", web::get().to(stats))
            .route("/cleanup/run", web::post().to(cleanup)),
    );
}

type Sessions = web::Data<DemoSessions>;

fn parse_id(raw: &str) -> Result<SessionId, DemoError> {
    raw.parse().map_err(|_| DemoError::NotFound)
}

async fn accounts() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "accounts": bakery_demo_data::accounts() }))
}

#[derive(Deserialize)]
struct CreateRequest {
    demo_account_type: String,
}

async fn create(
    sessions: Sessions,
    client: ClientAddress,
    body: web::Json<CreateRequest>,
) -> Result<HttpResponse, DemoError> {
    let account: AccountType = body
        .demo_account_type
        .parse()
        .map_err(|_| DemoError::UnknownAccountType)?;
    let session = sessions.create(account, client).await?;
    Ok(HttpResponse::Created().json(session))
}

async fn get_session(sessions: Sessions, id: web::Path<String>) -> Result<HttpResponse, DemoError> {
    let session = sessions.get(&parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(session))
}

async fn extend(sessions: Sessions, id: web::Path<String>) -> Result<HttpResponse, DemoError> {
    let session = sessions.extend(&parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(session))
}

async fn destroy(sessions: Sessions, id: web::Path<String>) -> Result<HttpResponse, DemoError> {
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

async fn stats(sessions: Sessions, _admin: AdminKey) -> Result<HttpResponse, DemoError> {
    Ok(HttpResponse::Ok().json(sessions.stats().await?))
}

async fn cleanup(sessions: Sessions, _admin: AdminKey) -> Result<HttpResponse, DemoError> {
    Ok(HttpResponse::Ok().json(sessions.cleanup().await?))
}
