//! The OpenAPI document of the public demo API (the contract in docs/api.md; the gateway
//! merges it into `GET /api/openapi.json`), and the wire shapes it names. Most shapes are
//! written out here rather than derived on the lifecycle's types so the lifecycle can change
//! inside without the contract moving; the cleanup report is derived on the real
//! `lifecycle` types (`CleanupReport`, `CleanedSession`, `Removed`, `CleanupFailure`), so it
//! cannot drift; `tests/api/openapi.rs` checks the route table, and the
//! schemathesis run (`scripts/fuzz-api.sh`) checks real answers against these shapes.

use bakery_config::openapi::CommonErrors;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::accounts,
        routes::create,
        routes::queue_place,
        routes::get_session,
        routes::destroy,
        routes::extend,
        routes::events,
        routes::checklist,
        routes::reset,
        routes::convert,
        routes::convert_preview,
        routes::stats,
        routes::cleanup,
    ),
    components(schemas(bakery_config::http::ErrorBody, PageEvent, DataSet, crate::funnel::ChecklistItem, crate::funnel::NextStep)),
    modifiers(&CommonErrors),
    tags((name = "demo", description = "Demo sessions (demo-session)"))
)]
pub struct ApiDoc;

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The two demo bakeries.
#[derive(ToSchema)]
#[schema(as = DemoAccountType)]
#[expect(non_camel_case_types, reason = "the wire names")]
pub enum AccountType {
    individual_bakery,
    central_baker_satellite,
}

/// Where a session is in its life.
#[derive(ToSchema)]
#[schema(as = DemoSessionStatus)]
#[expect(non_camel_case_types, reason = "the wire names")]
pub enum Status {
    pending,
    ready,
    expired,
    destroyed,
    failed,
}

/// `POST /api/demo/session/create`'s body.
#[derive(Deserialize, ToSchema)]
#[schema(as = CreateDemoSession)]
pub struct CreateRequest {
    #[schema(value_type = AccountType)]
    pub demo_account_type: String,
}

/// A demo account, as `GET /api/demo/accounts` lists it.
#[derive(ToSchema)]
#[schema(as = DemoAccount)]
#[expect(dead_code, reason = "a wire shape, documented only")]
pub struct Account {
    account_type: AccountType,
    /// The template tenant (never reachable by prospects).
    tenant_id: Uuid,
    name: String,
    /// The published login of the demo account.
    email: String,
    password: String,
    business_model: String,
    city: String,
    location: String,
    description: String,
    features: Vec<String>,
}

/// `GET /api/demo/accounts`.
#[derive(ToSchema)]
#[schema(as = DemoAccounts)]
#[expect(dead_code, reason = "a wire shape, documented only")]
pub struct Accounts {
    accounts: Vec<Account>,
}

/// The `{id}` of the session paths (get, extend, delete).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(dead_code, reason = "a path parameter, documented only")]
pub struct SessionPath {
    /// The session id: `demo_` + 22 to 64 letters, digits, `-` or `_` (issued ids: `demo_` +
    /// 36 letters and digits); anything else is `404 session_not_found` (a control character
    /// or an encoded `%`: `400 ambiguous_request` from the gateway).
    #[param(pattern = "^demo_[A-Za-z0-9_-]{22,64}$")]
    id: String,
}

/// A demo session.
#[derive(ToSchema)]
#[schema(as = DemoSession)]
#[expect(dead_code, reason = "a wire shape, documented only")]
pub struct Session {
    /// `demo_` + 36 characters.
    #[schema(pattern = "^demo_[A-Za-z0-9_-]+$")]
    session_id: String,
    virtual_tenant_id: Uuid,
    demo_account_type: AccountType,
    status: Status,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    seconds_left: i64,
    extensions_used: i32,
    extensions_left: i32,
    max_extensions: i32,
    /// The bakery's IANA time zone (its template's): where its days begin and end.
    #[schema(example = "Europe/Madrid")]
    time_zone: String,
    /// A signed session token (JWT), usable as a bearer token; only when a session is
    /// created or extended.
    #[schema(nullable = false)]
    session_token: Option<String>,
}

/// The `{token}` of `GET /api/demo/queue/{token}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(dead_code, reason = "a path parameter, documented only")]
pub struct QueuePath {
    /// The place's token, as `202` answered it: `q_` + 32 letters and digits; anything
    /// else is `404 queue_place_not_found`.
    #[param(pattern = "^q_[A-Za-z0-9]{32}$")]
    token: String,
}

/// Always `queued`.
#[derive(ToSchema)]
#[schema(as = DemoQueueStatus)]
#[expect(non_camel_case_types, reason = "the wire names")]
pub enum QueueStatus {
    queued,
}

/// A place in the waiting room (`202` from create, `200` from the poll while waiting).
#[derive(ToSchema)]
#[schema(as = DemoQueuePlace)]
#[expect(dead_code, reason = "a wire shape, documented only")]
pub struct QueuePlace {
    status: QueueStatus,
    /// `1` is next; `0`: its session is being prepared.
    queue_position: i64,
    /// When the sessions that must end before its turn are due to end (an upper bound).
    estimated_wait_seconds: i64,
    #[schema(pattern = "^q_[A-Za-z0-9]{32}$")]
    queue_token: String,
    /// Poll again after this long; a place not polled for 30 s is given up.
    poll_after_seconds: u64,
}

/// A poll's answer: still waiting (a `DemoQueuePlace`), or the session (a `DemoSession`).
pub struct QueueProgress;

impl utoipa::PartialSchema for QueueProgress {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::OneOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name("DemoQueuePlace"))
            .item(utoipa::openapi::Ref::from_schema_name("DemoSession"))
            .description(Some(
                "Still waiting (`status: queued`), or the session (`status: ready`)",
            ))
            .into()
    }
}

impl ToSchema for QueueProgress {
    fn name() -> std::borrow::Cow<'static, str> {
        "DemoQueueProgress".into()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        for (name, schema) in [
            (
                QueuePlace::name(),
                <QueuePlace as utoipa::PartialSchema>::schema(),
            ),
            (
                Session::name(),
                <Session as utoipa::PartialSchema>::schema(),
            ),
        ] {
            schemas.push((name.into_owned(), schema));
        }
    }
}

/// `DELETE /api/demo/session/{id}`: ended and removed.
#[derive(ToSchema)]
#[schema(as = DemoSessionDestroyed)]
#[expect(dead_code, reason = "a wire shape, documented only")]
pub struct Destroyed {
    session_id: String,
    /// `destroyed`
    status: String,
    removed: crate::lifecycle::Removed,
}

/// `DELETE /api/demo/session/{id}`: ended; its data goes with the next cleanup pass.
#[derive(ToSchema)]
#[schema(as = DemoSessionEnded)]
#[expect(dead_code, reason = "a wire shape, documented only")]
pub struct Ended {
    session_id: String,
    /// `expired`
    status: String,
}

/// `GET /api/demo/stats`: sessions by status and account type, created per hour,
/// extensions, clone times, durations, cleanup backlog (docs/demo-sessions.md).
#[derive(ToSchema)]
#[schema(as = DemoStats)]
#[expect(dead_code, reason = "a wire shape, documented only")]
pub struct Stats {
    total: i64,
    active: i64,
    #[schema(value_type = Object)]
    by_status: serde_json::Value,
    #[schema(value_type = Object)]
    by_account_type: serde_json::Value,
    /// `[{hour, sessions}]` over the last 24 hours.
    #[schema(value_type = Vec<Object>)]
    created_per_hour: serde_json::Value,
    #[schema(value_type = Object)]
    extensions: serde_json::Value,
    #[schema(value_type = Object)]
    clone_ms: serde_json::Value,
    #[schema(value_type = Object)]
    session_minutes: serde_json::Value,
    /// `{awaiting, with_errors, recent_passes: [{finished_at, duration_ms, outcome,
    /// removed, failures}], consecutive_failed_passes}`: `recent_passes` are the last 10
    /// cleanup passes of the replica that answered, newest first.
    #[schema(value_type = Object)]
    cleanup: serde_json::Value,
    /// `{target, ready: {account_type: n}}`: warm tenants ready to hand out today, and
    /// `DEMO_WARM_POOL_SIZE` (`0`: the pool is off).
    #[schema(value_type = Object)]
    warm_pool: serde_json::Value,
    /// The demo funnel over `from..=to`: `{from, to, time_zone, steps, by_account_type:
    /// {type: {sessions: {step: n}, conversion: {step: ratio | null}}}, by_day: [{day,
    /// account_type, sessions, conversion}], blocked_actions: [{account_type, rule,
    /// sessions}]}` (docs/observability.md, "Demo funnel").
    #[schema(value_type = Object)]
    funnel: serde_json::Value,
}

/// `GET /api/demo/stats`'s query: the funnel's range.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsRange {
    /// First day of the funnel (`YYYY-MM-DD`, Europe/Madrid); default: 6 days before `to`.
    pub from: Option<String>,
    /// Last day of the funnel (included); default: today. At most 92 days in all.
    pub to: Option<String>,
}

/// `POST /api/demo/session/{id}/events`'s body.
#[derive(Deserialize, ToSchema)]
#[schema(as = DemoPageEvents)]
pub struct PageEvents {
    /// 1 to 20 events.
    #[schema(min_items = 1, max_items = 20, value_type = Vec<PageEvent>)]
    pub events: Vec<bakery_config::funnel::RawEvent>,
}

/// One event the page reports.
#[derive(ToSchema)]
#[schema(as = DemoPageEvent)]
#[expect(dead_code, reason = "a wire shape, documented only")]
pub struct PageEvent {
    /// `screen_viewed` or `signup_started` (the other milestones are the server's).
    milestone: PageMilestone,
    /// For `screen_viewed`: `panel`, `ingredientes`, `productos`, `pedidos`, `venta`,
    /// `prevision`; empty or absent for `signup_started`.
    #[schema(max_length = 120)]
    detail: Option<String>,
}

/// The milestones the page may report.
#[derive(ToSchema)]
#[schema(as = DemoPageMilestone)]
#[expect(non_camel_case_types, reason = "the wire names")]
pub enum PageMilestone {
    screen_viewed,
    signup_started,
}

/// `202` of `POST …/events`.
#[derive(ToSchema)]
#[schema(as = DemoEventsRecorded)]
#[expect(dead_code, reason = "a wire shape, documented only")]
pub struct Recorded {
    /// Events newly recorded (repeats of an earlier event are not).
    recorded: u32,
}

/// A data set a conversion may keep.
#[derive(ToSchema)]
#[schema(as = DemoDataSet)]
#[expect(non_camel_case_types, reason = "the wire names")]
pub enum DataSet {
    /// Ingredients, products, recipes.
    catalog,
    suppliers,
    /// Current stock lots (brings the catalog).
    stock,
    /// Purchase orders and deliveries (brings the catalog and suppliers).
    orders,
    /// Sales history and production batches (brings the catalog).
    sales,
}

/// `POST /api/demo/session/{id}/convert`'s body.
#[derive(Deserialize, ToSchema)]
#[schema(as = DemoConvertRequest)]
pub struct ConvertRequest {
    /// The bakery's name (1 to 200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub bakery_name: String,
    /// The owner's name (1 to 200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub owner_name: String,
    /// The owner's login; unique across accounts (case-insensitive).
    pub email: String,
    /// At least 10 characters, not all of one kind (lower-case, upper-case, digits,
    /// symbols); at most 1024 bytes.
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    /// What to keep from the demo; dependencies are added (stock, orders and sales bring
    /// the catalog; orders bring suppliers). Absent: nothing.
    #[serde(default)]
    #[schema(value_type = Vec<DataSet>)]
    pub keep: Vec<String>,
}

/// `201` of `POST …/convert` (and of its retries).
#[derive(ToSchema)]
#[schema(as = DemoConverted)]
#[expect(dead_code, reason = "a wire shape, documented only")]
pub struct Converted {
    /// The new customer tenant.
    tenant_id: Uuid,
    /// A customer access token for the owner (`Authorization: Bearer`); a retry answers a
    /// freshly signed one for the same account.
    access_token: String,
    /// When `access_token` expires.
    expires_at: DateTime<Utc>,
    /// Rows copied per table (`0` where the data set was not kept).
    #[schema(value_type = Object)]
    kept: serde_json::Value,
}
