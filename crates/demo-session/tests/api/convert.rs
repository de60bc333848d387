//! From demo to customer: convert (the saga, its compensation per failure point,
//! idempotency) and reset.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a test fails loudly on what it cannot set up, and reads JSON answers by key"
)]

use std::collections::BTreeMap;

use crate::common::*;
use bakery_config::auth::{
    ACCESS_AUDIENCE, AccessClaims, INTERNAL_AUDIENCE, Identity, ROLE_DEMO, TokenKeys,
};
use bakery_config::db::AsyncPgConnection;
use bakery_demo_session::convert::account_ids;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};
use uuid::Uuid;

/// The identity the gateway forwards for a demo session.
fn identity(app: &TestApp, id: &str) -> String {
    let identity = Identity::new(id, Uuid::new_v4(), ROLE_DEMO, 60).for_demo_session(id);
    TokenKeys::new(&app.settings.internal_secret, INTERNAL_AUDIENCE)
        .sign(&identity)
        .expect("sign")
}

fn form(email: &str, keep: &[&str]) -> Value {
    json!({
        "bakery_name": "Panadería La Nueva",
        "owner_name": "Lucía Martín",
        "email": email,
        "password": "MasaMadre2026",
        "keep": keep,
    })
}

async fn convert_as(
    app: &TestApp,
    path_id: &str,
    credential: &str,
    body: &Value,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/demo/session/{path_id}/convert")))
        .bearer_auth(identity(app, credential))
        .header(
            bakery_config::client::CLIENT_HEADER,
            bakery_test_support::client_assertion("203.0.113.20"),
        )
        .json(body)
        .send()
        .await
        .expect("convert")
}

async fn convert(app: &TestApp, id: &str, body: &Value) -> reqwest::Response {
    convert_as(app, id, id, body).await
}

async fn reset(app: &TestApp, id: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/demo/session/{id}/reset")))
        .bearer_auth(identity(app, id))
        .send()
        .await
        .expect("reset")
}

async fn code(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("json error");
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn session(app: &TestApp) -> (String, Uuid) {
    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let tenant = body["virtual_tenant_id"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("tenant");
    (id, tenant)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The new tenant a conversion's `201` names.
fn tenant_of(body: &Value) -> Uuid {
    body["tenant_id"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("the new tenant's id")
}

async fn count(conn: &mut AsyncPgConnection, sql: &str, tenant: Uuid) -> i64 {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        bakery_config::db::allow_all_tenants(c).await?;
        sql_query(sql)
            .bind::<SqlUuid, _>(tenant)
            .get_result::<Count>(c)
            .await
    })
    .await
    .expect("count")
    .n
}

/// Nothing of a conversion anywhere: no tenant, no user, no inventory row, no record.
async fn assert_nothing_left(app: &TestApp, id: &str, email: &str) {
    let (tenant, _) = account_ids(&id.parse().expect("session id"));
    let mut ten = app.tenant_conn().await;
    assert_eq!(
        count(
            &mut ten,
            "SELECT count(*) AS n FROM tenants WHERE id = $1",
            tenant
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &mut ten,
            "SELECT count(*) AS n FROM users WHERE tenant_id = $1",
            tenant
        )
        .await,
        0
    );
    let with_email = ten
        .transaction::<_, diesel::result::Error, _>(async |c| {
            bakery_config::db::allow_all_tenants(c).await?;
            sql_query(
                "SELECT count(*) AS n FROM users u JOIN tenants t ON t.id = u.tenant_id \
                       WHERE lower(u.email) = lower($1) AND NOT t.is_demo_template",
            )
            .bind::<Text, _>(email)
            .get_result::<Count>(c)
            .await
        })
        .await
        .expect("users");
    assert_eq!(with_email.n, 0, "no customer user with {email}");
    let mut inv = app.inventory_conn().await;
    let rows = inventory_counts(&mut inv, tenant).await;
    assert!(rows.values().all(|n| *n == 0), "{rows:?}");
    let mut own = app.sessions_conn().await;
    let records: Count =
        sql_query("SELECT count(*) AS n FROM demo_conversions WHERE session_id = $1")
            .bind::<Text, _>(id)
            .get_result(&mut own)
            .await
            .expect("records");
    assert_eq!(records.n, 0);
}

#[tokio::test]
async fn converting_keeps_the_chosen_data_with_new_ids_and_ends_the_demo() {
    let app = spawn_app().await;
    let (id, virtual_tenant) = session(&app).await;
    // the prospect changed a recipe: the account gets the changed one
    let mut inv = app.inventory_conn().await;
    inv.batch_execute(&format!(
        "SELECT set_config('app.all_tenants', 'on', false); \
         UPDATE recipes SET instructions = 'Receta de Lucía' \
         WHERE tenant_id = '{virtual_tenant}' AND name ILIKE '%barra%';"
    ))
    .await
    .expect("edit a recipe");

    let r = convert(
        &app,
        &id,
        &form("  Lucia@Horno-Nuevo.ES ", &["catalog", "stock"]),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let body: Value = r.json().await.expect("json");
    let tenant = tenant_of(&body);
    let kept: BTreeMap<String, i64> = serde_json::from_value(body["kept"].clone()).expect("kept");
    assert!(body["expires_at"].is_string());

    // the access token is a customer's (the gateway verifies it with ACCESS_TOKEN_SECRET)
    let claims: AccessClaims = TokenKeys::new(&app.settings.access_secret, ACCESS_AUDIENCE)
        .verify(body["access_token"].as_str().expect("token"))
        .expect("an access token");
    assert_eq!((claims.tenant_id, claims.role.as_str()), (tenant, "owner"));
    assert_eq!(claims.email, "lucia@horno-nuevo.es", "normalised");

    // the catalog and the current stock, nothing else; every foreign key holds
    assert_eq!(
        broken_foreign_keys(&mut inv, tenant).await,
        Vec::<String>::new()
    );
    let rows = inventory_counts(&mut inv, tenant).await;
    for t in [
        "ingredients",
        "products",
        "recipes",
        "recipe_lines",
        "stock_lots",
    ] {
        assert!(rows[t] > 0, "{t} kept: {rows:?}");
        assert_eq!(kept[t], rows[t], "{t} counted");
    }
    for t in [
        "suppliers",
        "purchase_orders",
        "purchase_order_lines",
        "deliveries",
        "sales",
        "sale_lines",
        "production_batches",
        "forecast_models",
        "demo_row_usage",
    ] {
        assert_eq!(rows[t], 0, "{t} not kept");
    }
    assert_eq!(kept["sales"], 0);
    assert_eq!(rows["ingredients"], 30);
    assert_eq!(
        count(
            &mut inv,
            "SELECT count(*) AS n FROM stock_lots WHERE tenant_id = $1 AND quantity = 0",
            tenant
        )
        .await,
        0,
        "only current lots"
    );
    // new ids, consistent: no id of the demo survives, every recipe line names one of
    // the new tenant's ingredients (the composite foreign keys make that the only option)
    assert_eq!(
        count(
            &mut inv,
            "SELECT count(*) AS n FROM ingredients n JOIN ingredients o ON o.id = n.id \
             WHERE n.tenant_id = $1 AND o.tenant_id <> n.tenant_id",
            tenant
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &mut inv,
            "SELECT count(*) AS n FROM recipe_lines l JOIN ingredients i \
             ON i.tenant_id = l.tenant_id AND i.id = l.ingredient_id WHERE l.tenant_id = $1",
            tenant
        )
        .await,
        rows["recipe_lines"]
    );
    assert_eq!(
        count(&mut inv, "SELECT count(*) AS n FROM ingredients WHERE tenant_id = $1 AND supplier_id IS NOT NULL", tenant).await,
        0,
        "suppliers were not kept: the links are cleared"
    );
    assert_eq!(
        count(&mut inv, "SELECT count(*) AS n FROM recipes WHERE tenant_id = $1 AND instructions = 'Receta de Lucía'", tenant).await,
        1,
        "the prospect's edit is kept"
    );

    // a real customer tenant: not demo, not template, listed with the customers (what
    // procurement and every background job read)
    let mut ten = app.tenant_conn().await;
    let (customers, _) = bakery_tenant::queries::list_tenants(
        &mut ten,
        bakery_tenant::domain::TenantKind::Customers,
        bakery_config::pagination::Page {
            limit: 500,
            offset: 0,
        },
    )
    .await
    .expect("list");
    let listed = customers
        .iter()
        .find(|t| t.id == tenant)
        .expect("listed as a customer");
    assert!(!listed.is_demo && !listed.is_demo_template);
    assert_eq!(listed.name, "Panadería La Nueva");
    assert_eq!(listed.business_model, "individual_bakery");

    // the demo is over and its data gone; the funnel has the milestone
    let (status, error) = code(app.get_session(&id).await).await;
    assert_eq!((status, error.as_str()), (401, "session_expired"));
    let virtual_rows = inventory_counts(&mut inv, virtual_tenant).await;
    assert!(virtual_rows.values().all(|n| *n == 0), "{virtual_rows:?}");
    let mut own = app.sessions_conn().await;
    let converted: Count = sql_query(
        "SELECT count(*) AS n FROM demo_milestones WHERE session_id = $1 AND milestone = 'converted'",
    )
    .bind::<Text, _>(&id)
    .get_result(&mut own)
    .await
    .expect("milestone");
    assert_eq!(converted.n, 1);

    // a retry answers the same account, and makes no second one
    let again = convert(&app, &id, &form("otra@horno.es", &["sales"])).await;
    assert_eq!(again.status(), 201);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["tenant_id"], body["tenant_id"]);
    assert_eq!(again["kept"], body["kept"]);
    assert_eq!(
        count(
            &mut ten,
            "SELECT count(*) AS n FROM users WHERE tenant_id = $1",
            tenant
        )
        .await,
        1
    );
}

#[tokio::test]
async fn dependencies_come_along_and_demo_only_rows_never_do() {
    let app = spawn_app().await;
    let (id, _) = session(&app).await;
    let r = convert(&app, &id, &form("pedidos@horno.es", &["orders", "sales"])).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let body: Value = r.json().await.expect("json");
    let tenant = tenant_of(&body);
    let mut inv = app.inventory_conn().await;
    // the check's anti-joins are planned with the statistics refreshed after the answer
    // (before it, a tenant the planner has not seen yet takes minutes)
    statistics_refreshed(&mut inv).await;
    assert_eq!(
        broken_foreign_keys(&mut inv, tenant).await,
        Vec::<String>::new()
    );
    let rows = inventory_counts(&mut inv, tenant).await;
    // orders bring suppliers and the catalog; sales bring products (and production)
    for t in [
        "suppliers",
        "ingredients",
        "products",
        "recipes",
        "purchase_orders",
        "purchase_order_lines",
        "deliveries",
        "sales",
        "sale_lines",
        "production_batches",
    ] {
        assert!(rows[t] > 0, "{t}: {rows:?}");
    }
    assert_eq!(rows["stock_lots"], 0, "stock not chosen");
    assert_eq!(rows["forecast_models"], 0, "fake models are never carried");
    // every order line names the new tenant's items, every ingredient its new supplier
    assert_eq!(
        count(
            &mut inv,
            "SELECT count(*) AS n FROM ingredients i JOIN suppliers s \
             ON s.tenant_id = i.tenant_id AND s.id = i.supplier_id WHERE i.tenant_id = $1",
            tenant
        )
        .await,
        count(&mut inv, "SELECT count(*) AS n FROM ingredients WHERE tenant_id = $1 AND supplier_id IS NOT NULL", tenant).await
    );
    assert!(
        count(&mut inv, "SELECT count(*) AS n FROM ingredients WHERE tenant_id = $1 AND supplier_id IS NOT NULL", tenant).await
            > 0
    );
}

#[tokio::test]
async fn the_history_keeps_its_ids_and_the_prospects_own_tickets_get_new_ones() {
    let app = spawn_app().await;
    let (id, virtual_tenant) = session(&app).await;
    // the prospect rang up a ticket of their own (what POST /api/pos/sales writes)
    let (own_sale, own_line) = (Uuid::new_v4(), Uuid::new_v4());
    let mut inv = app.inventory_conn().await;
    inv.batch_execute(&format!(
        "BEGIN; SELECT set_config('app.all_tenants', 'on', true); \
         INSERT INTO sales (tenant_id, id, sold_at, payment_method, total) \
           VALUES ('{virtual_tenant}', '{own_sale}', now() - interval '1 minute', 'bizum', 7.77); \
         INSERT INTO sale_lines (tenant_id, id, sale_id, product_id, quantity, unit_price, line_total) \
           SELECT '{virtual_tenant}', '{own_line}', '{own_sale}', id, 1, 7.77, 7.77 \
           FROM products WHERE tenant_id = '{virtual_tenant}' ORDER BY name LIMIT 1; \
         COMMIT;"
    ))
    .await
    .expect("the prospect's own ticket");
    let before = chrono::Utc::now().to_rfc3339();
    let r = convert(&app, &id, &form("tickets@horno.es", &["sales"])).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let body: Value = r.json().await.expect("json");
    let tenant = tenant_of(&body);
    statistics_refreshed(&mut inv).await;
    assert_eq!(
        broken_foreign_keys(&mut inv, tenant).await,
        Vec::<String>::new()
    );
    let history = SAN_PABLO;
    // every template ticket sold before the conversion is kept, with its id
    let kept_with_their_ids = count(
        &mut inv,
        &format!(
            "SELECT count(*) AS n FROM sales n JOIN sales t ON t.id = n.id \
             WHERE n.tenant_id = $1 AND t.tenant_id = '{history}'"
        ),
        tenant,
    )
    .await;
    assert!(kept_with_their_ids > 1000, "{kept_with_their_ids}");
    let missing = count(
        &mut inv,
        &format!(
            "SELECT count(*) AS n FROM sales t WHERE t.tenant_id = '{history}' \
             AND t.sold_at <= '{before}'::timestamptz \
             AND NOT EXISTS (SELECT 1 FROM sales n WHERE n.tenant_id = $1 AND n.id = t.id)"
        ),
        tenant,
    )
    .await;
    assert_eq!(
        missing, 0,
        "template tickets sold before the conversion, not kept"
    );
    // the prospect's own ticket: kept, under a new id, its line pointing at it
    assert_eq!(
        count(
            &mut inv,
            &format!("SELECT count(*) AS n FROM sales WHERE tenant_id = $1 AND id = '{own_sale}'"),
            tenant
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &mut inv,
            "SELECT count(*) AS n FROM sales s JOIN sale_lines l ON l.tenant_id = s.tenant_id \
             AND l.sale_id = s.id WHERE s.tenant_id = $1 AND s.total = 7.77 \
             AND s.payment_method = 'bizum' AND l.line_total = 7.77",
            tenant
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_new_owner_logs_in_through_tenant_service() {
    let app = spawn_app().await;
    let (id, _) = session(&app).await;
    let r = convert(&app, &id, &form("login@horno.es", &[])).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.expect("json");
    // tenant-service's login use case, on the same tenant database
    let mut ten = app.tenant_conn().await;
    let email = bakery_tenant::domain::Email::parse("LOGIN@horno.es").expect("email");
    let (user, tenant) = bakery_tenant::queries::find_login(&mut ten, &email)
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(
        tenant.id.to_string(),
        body["tenant_id"].as_str().expect("id")
    );
    assert!(bakery_tenant::password::verify(
        "MasaMadre2026",
        &user.password_hash
    ));
    assert!(user.password_hash.starts_with("$argon2id$"));
    assert_eq!((user.role.as_str(), user.is_active), ("owner", true));
}

#[tokio::test]
async fn a_taken_email_is_409_and_leaves_nothing_behind() {
    let app = spawn_app().await;
    let (id, _) = session(&app).await;
    // San Pablo's published demo user holds this address
    let email = "demo.individual@panaderiasanpablo.com";
    let (status, error) =
        code(convert(&app, &id, &form(&email.to_uppercase(), &["catalog"])).await).await;
    assert_eq!((status, error.as_str()), (409, "email_taken"));
    assert_nothing_left(&app, &id, email).await;
    // the demo goes on
    assert_eq!(app.get_session(&id).await.status(), 200);
}

#[tokio::test]
async fn bad_fields_are_422_with_their_code() {
    let app = spawn_app().await;
    let (id, _) = session(&app).await;
    let base = form("campos@horno.es", &["catalog"]);
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    for (body, expected) in [
        (with("email", json!("sin-arroba")), "invalid_email"),
        (with("password", json!("corta")), "weak_password"),
        (with("password", json!("solominusculas")), "weak_password"),
        (
            with("keep", json!(["catalog", "forecasts"])),
            "invalid_keep",
        ),
        (with("bakery_name", json!("   ")), "invalid_bakery_name"),
        (
            with("owner_name", json!("x".repeat(201))),
            "invalid_owner_name",
        ),
    ] {
        let (status, error) = code(convert(&app, &id, &body).await).await;
        assert_eq!((status, error.as_str()), (422, expected), "{body}");
    }
    assert_nothing_left(&app, &id, "campos@horno.es").await;
}

#[tokio::test]
async fn another_sessions_credential_is_403() {
    let app = spawn_app().await;
    let (id, _) = session(&app).await;
    let (other, _) = session(&app).await;
    let body = form("ajena@horno.es", &["catalog"]);
    let (status, error) = code(convert_as(&app, &id, &other, &body).await).await;
    assert_eq!((status, error.as_str()), (403, "session_mismatch"));
    let r = app
        .client
        .post(app.url(&format!("/api/demo/session/{id}/reset")))
        .bearer_auth(identity(&app, &other))
        .send()
        .await
        .expect("reset");
    assert_eq!(code(r).await, (403, "session_mismatch".to_owned()));
    assert_nothing_left(&app, &id, "ajena@horno.es").await;
}

#[tokio::test]
async fn a_double_submit_makes_one_account() {
    let app = spawn_app().await;
    let (id, _) = session(&app).await;
    let body = form("doble@horno.es", &["catalog", "suppliers"]);
    let (a, b) = tokio::join!(convert(&app, &id, &body), convert(&app, &id, &body));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    let (a, b): (Value, Value) = (a.json().await.expect("a"), b.json().await.expect("b"));
    assert_eq!(a["tenant_id"], b["tenant_id"]);
    assert_eq!(a["kept"], b["kept"]);
    let mut ten = app.tenant_conn().await;
    let tenant: Uuid = a["tenant_id"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("id");
    assert_eq!(
        count(&mut ten, "SELECT count(*) AS n FROM tenants WHERE NOT is_demo AND NOT is_demo_template AND id <> $1", tenant).await,
        0,
        "exactly one customer tenant"
    );
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    check: String,
}

/// How many times `ANALYZE` ran on `sales` and `sale_lines` of this test's database (each
/// test has its own, and its counters start at 0).
async fn shared_history_analyzed(conn: &mut AsyncPgConnection) -> i64 {
    // outside a transaction: each statement reads the counters afresh
    sql_query(
        "SELECT coalesce(min(analyze_count), 0) AS n FROM pg_stat_user_tables \
         WHERE relname IN ('sales', 'sale_lines')",
    )
    .get_result::<Count>(conn)
    .await
    .expect("pg_stat_user_tables")
    .n
}

/// Waits (30 s at most) until the refresher analyzed the shared history tables.
async fn statistics_refreshed(conn: &mut AsyncPgConnection) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while shared_history_analyzed(conn).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the shared history's statistics were not refreshed after the conversion"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn keeping_the_history_refreshes_its_statistics_and_other_conversions_do_not() {
    let app = spawn_app().await;
    let mut inv = app.inventory_conn().await;
    // a conversion without the history leaves the statistics alone
    let (id, _) = session(&app).await;
    let r = convert(&app, &id, &form("sin-historia@horno.es", &["stock"])).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(shared_history_analyzed(&mut inv).await, 0);
    // one that keeps it: refreshed, after the answer
    let (id, _) = session(&app).await;
    let r = convert(&app, &id, &form("historia@horno.es", &["sales"])).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    statistics_refreshed(&mut inv).await;
}

/// Every foreign key among the inventory tables that `tenant`'s rows break, by name: the
/// conversion's copy skips PostgreSQL's per-row checks where the role may (its consistency
/// is by construction), so the tests check what PostgreSQL would have.
async fn broken_foreign_keys(conn: &mut AsyncPgConnection, tenant: Uuid) -> Vec<String> {
    // one anti-join per foreign key: rows whose key columns are all set (MATCH SIMPLE) and
    // name no row of the referenced table
    let keys: Vec<ForeignKey> = sql_query(
        "SELECT c.conname::text AS name, format( \
           'SELECT count(*) AS n FROM %s x WHERE x.tenant_id = $1 AND %s AND NOT EXISTS \
            (SELECT 1 FROM %s y WHERE %s)', \
           c.conrelid::regclass, \
           (SELECT string_agg(format('x.%I IS NOT NULL', a.attname), ' AND ') \
              FROM unnest(c.conkey) k JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k), \
           c.confrelid::regclass, \
           (SELECT string_agg(format('y.%I = x.%I', fa.attname, a.attname), ' AND ') \
              FROM unnest(c.conkey, c.confkey) AS k(l, f) \
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.l \
              JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.f)) AS check \
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE c.contype = 'f' AND n.nspname = 'public' \
           AND EXISTS (SELECT 1 FROM pg_attribute t WHERE t.attrelid = c.conrelid \
                       AND t.attname = 'tenant_id' AND NOT t.attisdropped)",
    )
    .load(conn)
    .await
    .expect("foreign keys");
    assert!(
        keys.len() >= 10,
        "the inventory schema's foreign keys: {}",
        keys.len()
    );
    let mut broken = Vec::new();
    for key in keys {
        if count(conn, &key.check, tenant).await > 0 {
            broken.push(key.name);
        }
    }
    broken
}

/// Makes one statement of a database fail for real: a trigger raising on `table` when
/// `condition` holds (`ENABLE ALWAYS`: also in a copy that skips foreign-key triggers).
async fn fail_on(conn: &mut AsyncPgConnection, table: &str, event: &str, condition: &str) {
    conn.batch_execute(&format!(
        "CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF {condition} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER test_fail BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION test_fail(); \
         ALTER TABLE {table} ENABLE ALWAYS TRIGGER test_fail;"
    ))
    .await
    .expect("install the failure");
}

async fn assert_compensated(app: &TestApp, id: &str, email: &str) {
    let (status, error) = code(
        convert(
            app,
            id,
            &form(email, &["catalog", "orders", "sales", "stock"]),
        )
        .await,
    )
    .await;
    assert_eq!((status, error.as_str()), (503, "conversion_failed"));
    assert_nothing_left(app, id, email).await;
    // the demo goes on, untouched
    assert_eq!(app.get_session(id).await.status(), 200);
}

#[tokio::test]
async fn a_failed_account_step_leaves_nothing() {
    let app = spawn_app().await;
    let (id, _) = session(&app).await;
    fail_on(
        &mut app.tenant_conn().await,
        "users",
        "INSERT",
        "NEW.role = 'owner' AND NEW.email = 'paso1@horno.es'",
    )
    .await;
    assert_compensated(&app, &id, "paso1@horno.es").await;
}

#[tokio::test]
async fn a_failed_inventory_copy_removes_the_account() {
    let app = spawn_app().await;
    let (id, _) = session(&app).await;
    let (tenant, _) = account_ids(&id.parse().expect("id"));
    // the last table of the copy fails: every earlier table was written in its transaction
    fail_on(
        &mut app.inventory_conn().await,
        "sale_lines",
        "INSERT",
        &format!("NEW.tenant_id = '{tenant}'"),
    )
    .await;
    assert_compensated(&app, &id, "paso2@horno.es").await;
}

#[tokio::test]
async fn a_failed_record_removes_the_account_and_its_data() {
    let app = spawn_app().await;
    let (id, _) = session(&app).await;
    fail_on(
        &mut app.sessions_conn().await,
        "demo_conversions",
        "UPDATE",
        "NEW.status = 'completed'",
    )
    .await;
    assert_compensated(&app, &id, "paso3@horno.es").await;
}

#[derive(QueryableByName)]
struct Text1 {
    #[diesel(sql_type = Text)]
    v: String,
}

#[tokio::test]
async fn reset_puts_the_template_back_same_session_same_expiry() {
    let app = spawn_app().await;
    let (id, tenant) = session(&app).await;
    let before = {
        let r = app.get_session(&id).await;
        r.json::<Value>().await.expect("json")
    };
    let mut inv = app.inventory_conn().await;
    let original = inventory_counts(&mut inv, tenant).await;
    inv.batch_execute(&format!(
        "SELECT set_config('app.all_tenants', 'on', false); \
         UPDATE ingredients SET name = 'Cambiada' WHERE tenant_id = '{tenant}' AND name = 'Levadura fresca de panadería'; \
         INSERT INTO suppliers (tenant_id, id, name, kind) VALUES ('{tenant}', gen_random_uuid(), 'Nuevo', 'wholesaler');"
    ))
    .await
    .expect("change the demo");
    // a cached page of the tenant
    let key = format!(
        "{}inventory:page",
        bakery_config::cache::Keys::new(app.settings.redis.key_prefix.clone())
            .tenant_prefix(&tenant)
    );
    let mut redis = app.redis().await;
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("old")
        .query_async(&mut redis)
        .await
        .expect("set");

    let r = reset(&app, &id).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let after: Value = r.json().await.expect("json");
    assert_eq!(after["session_id"], before["session_id"]);
    assert_eq!(after["virtual_tenant_id"], before["virtual_tenant_id"]);
    assert_eq!(after["expires_at"], before["expires_at"]);
    assert_eq!(after["extensions_used"], before["extensions_used"]);

    assert_eq!(
        inventory_counts(&mut inv, tenant).await,
        original,
        "the created row is gone"
    );
    let names: Vec<Text1> = {
        inv.batch_execute("SELECT set_config('app.all_tenants', 'on', false)")
            .await
            .expect("all");
        sql_query("SELECT name AS v FROM ingredients WHERE tenant_id = $1 AND name IN ('Cambiada', 'Levadura fresca de panadería')")
            .bind::<SqlUuid, _>(tenant)
            .load(&mut inv)
            .await
            .expect("names")
    };
    assert_eq!(
        names.iter().map(|n| n.v.as_str()).collect::<Vec<_>>(),
        ["Levadura fresca de panadería"]
    );
    let cached: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .expect("get");
    assert_eq!(cached, None, "the tenant's cache is dropped");
}

#[tokio::test]
async fn cleanup_undoes_a_conversion_a_crash_left_started() {
    let app = spawn_app().await;
    // what a crash between the account and the record leaves: a customer tenant with a
    // user and inventory rows, and a `started` row from an hour ago
    let session = bakery_test_support::session_id();
    let (tenant, user) = account_ids(&session);
    app.tenant_conn()
        .await
        .batch_execute(&format!(
            "SELECT set_config('app.all_tenants', 'on', false); \
             INSERT INTO tenants (id, name, slug, business_model, city) \
                 VALUES ('{tenant}', 'A medias', 'a-medias-1', 'individual_bakery', 'Madrid'); \
             INSERT INTO users (tenant_id, id, email, password_hash, full_name, role) \
                 VALUES ('{tenant}', '{user}', 'medias@horno.es', 'x', 'A medias', 'owner');"
        ))
        .await
        .expect("half an account");
    app.inventory_conn()
        .await
        .batch_execute(&format!(
            "SELECT set_config('app.all_tenants', 'on', false); \
             INSERT INTO suppliers (tenant_id, id, name, kind) \
                 VALUES ('{tenant}', gen_random_uuid(), 'Harinas', 'wholesaler');"
        ))
        .await
        .expect("half the data");
    app.sessions_conn()
        .await
        .batch_execute(&format!(
            "INSERT INTO demo_conversions (session_id, tenant_id, user_id, status, started_at) \
             VALUES ('{}', '{tenant}', '{user}', 'started', now() - interval '1 hour');",
            session.as_str()
        ))
        .await
        .expect("the started row");

    let r = app
        .client
        .post(app.url("/api/demo/cleanup/run"))
        .header("x-admin-key", ADMIN_KEY)
        .send()
        .await
        .expect("cleanup");
    assert_eq!(r.status(), 200);
    assert_nothing_left(&app, session.as_str(), "medias@horno.es").await;
}
