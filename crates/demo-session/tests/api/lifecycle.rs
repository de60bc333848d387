//! The demo session lifecycle against real PostgreSQL and Redis, through the real router.
#![allow(
    clippy::expect_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use std::collections::HashSet;

use crate::common::*;
use bakery_config::db;
use bakery_config::demo::{SessionId, SessionStatus};
use bakery_demo_session::sessions;
use diesel::sql_query;
use diesel::sql_types::{Date, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use serde_json::Value;
use uuid::Uuid;

fn uuid_of(v: &Value) -> Uuid {
    v.as_str().and_then(|s| s.parse().ok()).expect("uuid")
}

#[derive(diesel::QueryableByName, Debug)]
struct DateRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<Date>)]
    d: Option<chrono::NaiveDate>,
}

async fn last_sale_day(
    conn: &mut diesel_async::AsyncPgConnection,
    tenant: Uuid,
) -> Option<chrono::NaiveDate> {
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        sql_query(
            "SELECT (max(sold_at) AT TIME ZONE 'Europe/Madrid')::date AS d \
             FROM sales WHERE tenant_id = $1",
        )
        .bind::<SqlUuid, _>(tenant)
        .get_result::<DateRow>(c)
        .await
    })
    .await
    .expect("last sale day")
    .d
}

/// Ages the template by ten days, as if it had been seeded ten days ago and never since.
async fn age_ten_days(inv: &mut diesel_async::AsyncPgConnection, template: Uuid) {
    inv.batch_execute(&format!(
        "SET app.all_tenants = 'on'; UPDATE sales SET sold_at = sold_at - interval '10 days' \
         WHERE tenant_id = '{template}'; UPDATE stock_lots SET expires_at = expires_at - 10 \
         WHERE tenant_id = '{template}' AND expires_at IS NOT NULL; \
         UPDATE purchase_orders SET expected_at = expected_at - 10, \
           ordered_at = ordered_at - interval '10 days' WHERE tenant_id = '{template}'; \
         RESET app.all_tenants;"
    ))
    .await
    .expect("age template");
}

fn bakery_today() -> chrono::NaiveDate {
    bakery_demo_data::clock::bakery_today(chrono::Utc::now())
}

#[tokio::test]
async fn create_gives_a_ready_full_isolated_copy_with_dates_rebased() {
    let app = spawn_app().await;
    let template: Uuid = SAN_PABLO.parse().expect("uuid");
    let mut inv = app.inventory_conn().await;
    let before = inventory_counts(&mut inv, template).await;

    let body = app.create("individual_bakery").await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["demo_account_type"], "individual_bakery");
    assert_eq!(body["extensions_used"], 0);
    assert_eq!(body["extensions_left"], 3);
    assert_eq!(body["time_zone"], "Europe/Madrid", "its template's zone");
    let id = body["session_id"].as_str().expect("id");
    assert!(id.starts_with("demo_") && id.len() == 41, "{id}");
    // tagged with the session key: the gateway can tell it from a made-up one
    let key = bakery_config::demo::SessionIdKey::new(&app.settings.session_secret);
    let parsed: bakery_config::demo::SessionId = id.parse().expect("a session id");
    assert!(parsed.is_authentic(&key));
    assert!(body["seconds_left"].as_i64().expect("secs") > 29 * 60);
    let virtual_tenant = uuid_of(&body["virtual_tenant_id"]);
    // the session token carries what the gateway needs, signed, ending with the session
    let claims: bakery_config::demo::SessionClaims = bakery_config::auth::TokenKeys::new(
        &app.settings.session_secret,
        bakery_config::auth::SESSION_AUDIENCE,
    )
    .verify(body["session_token"].as_str().expect("token"))
    .expect("a valid session token");
    assert_eq!(claims.sub, id);
    assert_eq!(claims.virtual_tenant_id, virtual_tenant);
    assert_eq!(claims.demo_account_type.as_str(), "individual_bakery");
    let expires_at: chrono::DateTime<chrono::Utc> = body["expires_at"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("expires_at");
    assert_eq!(claims.exp, expires_at.timestamp());
    // signed with another key, it is refused
    assert!(
        bakery_config::auth::TokenKeys::new(
            &bakery_test_support::secret("other"),
            bakery_config::auth::SESSION_AUDIENCE
        )
        .verify::<bakery_config::demo::SessionClaims>(
            body["session_token"].as_str().expect("token")
        )
        .is_err()
    );

    // a copy of every row a prospect can change, under the virtual tenant; the history is
    // the template's, shared (not copied)
    let copy = inventory_counts(&mut inv, virtual_tenant).await;
    assert_eq!(copy, clone_counts(&mut inv, template).await);
    assert!(copy["sales"] == 0 && copy["ingredients"] >= 25 && copy["recipes"] >= 5);
    assert!(before["sales"] > 10_000, "a till's history: {before:?}");
    // the template is untouched, and current: its latest ticket is of today (Madrid's)
    assert_eq!(inventory_counts(&mut inv, template).await, before);
    assert_eq!(
        last_sale_day(&mut inv, template).await,
        Some(bakery_today())
    );

    // Dates rebased (the fallback for a template that could not be seeded for today): a
    // copy of a template aged by ten days moves every copied date by those ten days
    age_ten_days(&mut inv, template).await;
    let aged_copy = Uuid::new_v4();
    bakery_demo_session::cloner::copy_inventory(
        &mut inv,
        app.sessions.plan(),
        &bakery_demo_session::cloner::CloneRequest {
            template_id: template,
            virtual_tenant_id: aged_copy,
            owner: bakery_demo_session::cloner::CloneFor::WarmPool,
            expires_at: chrono::Utc::now(),
        },
    )
    .await
    .expect("copy the aged template");
    // … every lot and order moved by the same ten days: lots expire in the coming days,
    // the pending order is due this week, the late one stays two days late
    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Rebased {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        lots_not_moved: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        lots_expiring_within_3_days: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        orders_not_moved: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        pending_due_this_week: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        late_by_two_days: i64,
    }
    let rebased: Rebased = inv
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            // the bakery's days: `current_date` in Madrid
            sql_query("SET LOCAL TimeZone = 'Europe/Madrid'").execute(c).await?;
            sql_query(
                "SELECT \
                   (SELECT count(*) FROM stock_lots v JOIN stock_lots t ON t.tenant_id = $2 AND t.id = v.id \
                     WHERE v.tenant_id = $1 AND v.expires_at IS DISTINCT FROM t.expires_at + 10) \
                     AS lots_not_moved, \
                   (SELECT count(*) FROM stock_lots WHERE tenant_id = $1 AND quantity > 0 \
                     AND expires_at BETWEEN current_date AND current_date + 3) \
                     AS lots_expiring_within_3_days, \
                   (SELECT count(*) FROM purchase_orders v JOIN purchase_orders t ON t.tenant_id = $2 AND t.id = v.id \
                     WHERE v.tenant_id = $1 AND (v.expected_at <> t.expected_at + 10 \
                       OR v.ordered_at <> t.ordered_at + interval '10 days')) AS orders_not_moved, \
                   (SELECT count(*) FROM purchase_orders WHERE tenant_id = $1 AND status = 'pending' \
                     AND expected_at BETWEEN current_date AND current_date + 7) AS pending_due_this_week, \
                   (SELECT count(*) FROM purchase_orders WHERE tenant_id = $1 AND status = 'in_transit' \
                     AND expected_at = current_date - 2) AS late_by_two_days",
            )
            .bind::<SqlUuid, _>(aged_copy)
            .bind::<SqlUuid, _>(template)
            .get_result(c)
            .await
        })
        .await
        .expect("rebased dates");
    assert_eq!(rebased.lots_not_moved, 0, "{rebased:?}");
    assert_eq!(rebased.orders_not_moved, 0, "{rebased:?}");
    assert!(rebased.lots_expiring_within_3_days > 0, "{rebased:?}");
    assert_eq!(rebased.pending_due_this_week, 1, "{rebased:?}");
    assert_eq!(rebased.late_by_two_days, 1, "{rebased:?}");

    // the virtual tenant row carries the demo flags
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        is_demo: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        is_demo_template: bool,
        #[diesel(sql_type = SqlUuid)]
        base_demo_tenant_id: Uuid,
        #[diesel(sql_type = Text)]
        demo_session_id: String,
    }
    let mut ten = app.tenant_conn().await;
    let row: T = ten
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::scope_to_tenant(c, virtual_tenant).await?;
            sql_query(
                "SELECT name, is_demo, is_demo_template, base_demo_tenant_id, demo_session_id \
                 FROM tenants WHERE id = $1",
            )
            .bind::<SqlUuid, _>(virtual_tenant)
            .get_result(c)
            .await
        })
        .await
        .expect("virtual tenant row");
    assert!(row.is_demo && !row.is_demo_template);
    assert_eq!(row.base_demo_tenant_id, template);
    assert_eq!(row.demo_session_id, id);
    assert_eq!(row.name, "Panadería San Pablo - Demo");

    // the Redis copy, with a TTL equal to the time left
    let mut redis = app.redis().await;
    let key = format!("{}demo:session:{id}", app.settings.redis.key_prefix);
    let cached: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .expect("get");
    let cached: Value = serde_json::from_str(&cached).expect("json");
    assert_eq!(cached["virtual_tenant_id"], body["virtual_tenant_id"]);
    assert_eq!(cached["status"], "ready");
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .expect("ttl");
    assert!((1790..=1800).contains(&ttl), "ttl {ttl}");

    // and GET answers the same session
    let got: Value = app.get_session(id).await.json().await.expect("json");
    assert_eq!(got["virtual_tenant_id"], body["virtual_tenant_id"]);
    assert!(got.get("session_token").is_none());
}

#[tokio::test]
async fn a_template_the_calendar_left_behind_is_seeded_again_before_the_next_clone() {
    let app = spawn_app().await;
    let template: Uuid = SAN_PABLO.parse().expect("uuid");
    let mut inv = app.inventory_conn().await;
    let current = inventory_counts(&mut inv, template).await;
    age_ten_days(&mut inv, template).await;
    assert!(last_sale_day(&mut inv, template).await < Some(bakery_today()));

    // the next clone finds the template ten days behind and seeds it for today first
    let body = app.create("individual_bakery").await;
    assert_eq!(body["status"], "ready");
    assert_eq!(
        last_sale_day(&mut inv, template).await,
        Some(bakery_today())
    );
    assert_eq!(inventory_counts(&mut inv, template).await, current);
    let copy = uuid_of(&body["virtual_tenant_id"]);
    assert_eq!(
        inventory_counts(&mut inv, copy).await,
        clone_counts(&mut inv, template).await
    );
    // and once current, the next ones only read an atomic
    assert_eq!(
        app.sessions.keep_templates_current().await,
        Some(bakery_demo_session::templates::Refresh::Current)
    );
}

#[tokio::test]
async fn both_bakeries_clone_and_sessions_never_see_each_others_writes() {
    let app = spawn_app().await;
    let a = uuid_of(&app.create("individual_bakery").await["virtual_tenant_id"]);
    let b = uuid_of(&app.create("individual_bakery").await["virtual_tenant_id"]);
    let c = uuid_of(&app.create("central_baker_satellite").await["virtual_tenant_id"]);
    let mut inv = app.inventory_conn().await;
    let before_b = inventory_counts(&mut inv, b).await;
    let espiga = clone_counts(&mut inv, LA_ESPIGA.parse().expect("uuid")).await;
    assert_eq!(inventory_counts(&mut inv, c).await, espiga);

    // session A writes (as the services do: scoped to its tenant) …
    inv.transaction::<_, diesel::result::Error, _>(async |conn| {
        db::scope_to_tenant(conn, a).await?;
        sql_query(
            "INSERT INTO sales (tenant_id, id, sold_at, total) VALUES ($1, $2, now(), 12.50)",
        )
        .bind::<SqlUuid, _>(a)
        .bind::<SqlUuid, _>(Uuid::new_v4())
        .execute(conn)
        .await?;
        sql_query("DELETE FROM forecast_models").execute(conn).await
    })
    .await
    .expect("write as A");
    // … and B sees none of it
    assert_eq!(inventory_counts(&mut inv, b).await, before_b);
    let seen_by_b = inv
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            db::scope_to_tenant(conn, b).await?;
            // nothing but its own sales and its template's shared history
            sql_query("SELECT count(*) AS n FROM sales WHERE tenant_id <> $1 AND tenant_id <> $2")
                .bind::<SqlUuid, _>(b)
                .bind::<SqlUuid, _>(SAN_PABLO.parse::<Uuid>().expect("uuid"))
                .get_result::<common_count::N>(conn)
                .await
        })
        .await
        .expect("read as B");
    assert_eq!(seen_by_b.n, 0);
}

mod common_count {
    #[derive(diesel::QueryableByName)]
    pub struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        pub n: i64,
    }
}

#[tokio::test]
async fn extend_three_times_then_409() {
    // REDIS_SESSION_TTL above the two hours a fully extended session has: the copy's TTL
    // follows the time left (the cap is `the_redis_copy_lives_at_most_redis_session_ttl`)
    let app =
        spawn_app_with(|s| s.demo.redis_session_ttl = std::time::Duration::from_secs(3 * 3600))
            .await;
    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let mut expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().expect("exp"))
            .expect("rfc3339");
    for used in 1..=3 {
        let r = app.extend_session(&id).await;
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["extensions_used"], used);
        assert_eq!(v["extensions_left"], 3 - used);
        let new = chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().expect("exp"))
            .expect("rfc3339");
        assert_eq!((new - expires).num_minutes(), 30);
        expires = new;
    }
    let r = app.extend_session(&id).await;
    assert_eq!(r.status().as_u16(), 409);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "max_extensions_reached");
    assert!(v["message"].as_str().expect("msg").contains("ampliado"));

    // the Redis copy follows: about 2 h left
    let mut redis = app.redis().await;
    let key = format!("{}demo:session:{id}", app.settings.redis.key_prefix);
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .expect("ttl");
    assert!((119 * 60..=120 * 60).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn extend_and_end_tell_every_gateway_to_drop_its_cached_copy() {
    use futures_util::StreamExt;
    let app = spawn_app().await;
    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let channel = bakery_config::demo::invalidation_channel(&bakery_config::cache::Keys::new(
        app.settings.redis.key_prefix.clone(),
    ));
    let client = redis::Client::open(app.settings.redis.url.as_str()).expect("redis url");
    let mut pubsub = client.get_async_pubsub().await.expect("pubsub");
    pubsub.subscribe(&channel).await.expect("subscribe");
    let mut messages = pubsub.on_message();
    let mut next_message = async || {
        let m = tokio::time::timeout(std::time::Duration::from_secs(5), messages.next())
            .await
            .expect("an invalidation message within 5 s")
            .expect("a message");
        m.get_payload::<String>().expect("payload")
    };

    let r = app.extend_session(&id).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(next_message().await, id);

    let r = app.end_session(&id).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(next_message().await, id);
}

#[tokio::test]
async fn destroy_removes_every_row_and_key() {
    let app = spawn_app().await;
    let body = app.create("central_baker_satellite").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let tenant = uuid_of(&body["virtual_tenant_id"]);
    // a cache key another service keeps for this tenant
    let mut redis = app.redis().await;
    let cache_key = format!(
        "{}tenant:{tenant}:ingredients",
        app.settings.redis.key_prefix
    );
    let _: () = redis::cmd("SET")
        .arg(&cache_key)
        .arg("[]")
        .query_async(&mut redis)
        .await
        .expect("set");

    let r = app.end_session(&id).await;
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["status"], "destroyed");
    assert_eq!(v["removed"]["tenant_rows"], 1);
    assert!(
        v["removed"]["inventory_rows"]["stock_lots"]
            .as_i64()
            .expect("n")
            > 0
    );
    assert_eq!(v["removed"]["inventory_rows"]["history_shares"], 1);

    let mut inv = app.inventory_conn().await;
    assert!(
        inventory_counts(&mut inv, tenant)
            .await
            .values()
            .all(|n| *n == 0)
    );
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&cache_key)
        .arg(format!(
            "{}demo:session:{id}",
            app.settings.redis.key_prefix
        ))
        .query_async(&mut redis)
        .await
        .expect("exists");
    assert_eq!(exists, 0);
    let mut ten = app.tenant_conn().await;
    let left = ten
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            sql_query("SELECT count(*) AS n FROM tenants WHERE id = $1")
                .bind::<SqlUuid, _>(tenant)
                .get_result::<common_count::N>(c)
                .await
        })
        .await
        .expect("count");
    assert_eq!(left.n, 0);

    // the session is over for good
    for r in [
        app.get_session(&id).await,
        app.end_session(&id).await,
        app.extend_session(&id).await,
    ] {
        assert_eq!(r.status().as_u16(), 401);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"], "session_expired");
    }
}

#[tokio::test]
async fn expiry_is_swept_and_removes_everything() {
    let app = spawn_app().await;
    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let tenant = uuid_of(&body["virtual_tenant_id"]);
    let mut s = app.sessions_conn().await;
    s.batch_execute(&format!(
        "UPDATE demo_sessions SET expires_at = now() - interval '1 second' WHERE id = '{id}'"
    ))
    .await
    .expect("expire");

    let r = app
        .client
        .post(app.url("/api/demo/cleanup/run"))
        .header("X-Admin-Key", ADMIN_KEY)
        .send()
        .await
        .expect("cleanup");
    assert_eq!(r.status().as_u16(), 200);
    let report: Value = r.json().await.expect("json");
    assert_eq!(report["expired"], serde_json::json!([id]));
    assert_eq!(report["cleaned"][0]["session_id"], id.as_str());

    let mut inv = app.inventory_conn().await;
    assert!(
        inventory_counts(&mut inv, tenant)
            .await
            .values()
            .all(|n| *n == 0)
    );
    #[derive(diesel::QueryableByName)]
    struct St {
        #[diesel(sql_type = Text)]
        status: String,
    }
    let st: St = sql_query("SELECT status FROM demo_sessions WHERE id = $1")
        .bind::<Text, _>(&id)
        .get_result(&mut s)
        .await
        .expect("status");
    assert_eq!(st.status, "destroyed");

    // a second run finds nothing more to do
    let again: Value = app
        .client
        .post(app.url("/api/demo/cleanup/run"))
        .header("X-Admin-Key", ADMIN_KEY)
        .send()
        .await
        .expect("cleanup")
        .json()
        .await
        .expect("json");
    assert_eq!(again["cleaned"], serde_json::json!([]));
}

#[tokio::test]
async fn a_clone_that_fails_midway_leaves_nothing_behind() {
    let app = spawn_app().await;
    // make the copy fail late: after suppliers … products are in, forecast_models refuses
    let mut inv = app.inventory_conn().await;
    inv.batch_execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$; \
         CREATE TRIGGER refuse BEFORE INSERT ON forecast_models FOR EACH STATEMENT EXECUTE FUNCTION refuse(); \
         ALTER TABLE forecast_models ENABLE ALWAYS TRIGGER refuse;",
    )
    .await
    .expect("trigger");

    let r = app.create_as("individual_bakery", "203.0.113.77").await;
    assert_eq!(r.status().as_u16(), 503);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "demo_preparation_failed");

    #[derive(diesel::QueryableByName)]
    struct F {
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = SqlUuid)]
        virtual_tenant_id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        failure_reason: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        removed: bool,
    }
    let mut s = app.sessions_conn().await;
    let f: F = sql_query(
        "SELECT status, virtual_tenant_id, failure_reason, destroyed_at IS NOT NULL AS removed \
         FROM demo_sessions",
    )
    .get_result(&mut s)
    .await
    .expect("failed session");
    assert_eq!(f.status, "failed");
    assert!(f.removed);
    assert!(f.failure_reason.expect("reason").contains("disk full"));
    assert!(
        inventory_counts(&mut inv, f.virtual_tenant_id)
            .await
            .values()
            .all(|n| *n == 0)
    );
    let mut ten = app.tenant_conn().await;
    let left = ten
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            sql_query("SELECT count(*) AS n FROM tenants WHERE is_demo")
                .get_result::<common_count::N>(c)
                .await
        })
        .await
        .expect("count");
    assert_eq!(left.n, 0, "the compensation removed the virtual tenant");
}

#[tokio::test]
async fn three_cleanups_at_once_clean_each_session_exactly_once() {
    let app = spawn_app().await;
    let mut ids = HashSet::new();
    for _ in 0..6 {
        ids.insert(
            app.create("individual_bakery").await["session_id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let mut s = app.sessions_conn().await;
    s.batch_execute("UPDATE demo_sessions SET expires_at = now() - interval '1 second'")
        .await
        .expect("expire all");
    let (r1, r2, r3) = tokio::join!(
        app.sessions.cleanup(),
        app.sessions.cleanup(),
        app.sessions.cleanup()
    );
    let mut cleaned = Vec::new();
    for r in [r1, r2, r3] {
        let r = r.expect("no cleanup errors");
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        cleaned.extend(r.cleaned.into_iter().map(|c| c.session_id.to_string()));
    }
    cleaned.sort();
    let mut expected: Vec<String> = ids.into_iter().collect();
    expected.sort();
    assert_eq!(cleaned, expected, "every session cleaned, none twice");
}

#[tokio::test]
async fn expired_sessions_go_set_based_and_one_that_cannot_go_holds_no_other_back() {
    let app = spawn_app().await;
    let mut sessions_by_tenant = Vec::new();
    for account in [
        "individual_bakery",
        "central_baker_satellite",
        "individual_bakery",
        "central_baker_satellite",
        "individual_bakery",
    ] {
        let body = app.create(account).await;
        let id = body["session_id"].as_str().expect("id").to_owned();
        sessions_by_tenant.push((id, uuid_of(&body["virtual_tenant_id"])));
    }
    let live = uuid_of(&app.create("individual_bakery").await["virtual_tenant_id"]);
    // a cache key another service keeps, for every tenant
    let mut redis = app.redis().await;
    let cache_key = |t: Uuid| format!("{}tenant:{t}:ingredients", app.settings.redis.key_prefix);
    for t in sessions_by_tenant.iter().map(|(_, t)| *t).chain([live]) {
        let _: () = redis::cmd("SET")
            .arg(cache_key(t))
            .arg("[]")
            .query_async(&mut redis)
            .await
            .expect("set");
    }
    // the inventory database refuses to delete one tenant's stock lots
    let (stuck_id, stuck) = sessions_by_tenant[1].clone();
    let mut inv = app.inventory_conn().await;
    inv.batch_execute(&format!(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN RAISE EXCEPTION 'database busy (simulated)'; END $$; \
         CREATE TRIGGER refuse BEFORE DELETE ON stock_lots FOR EACH ROW \
           WHEN (OLD.tenant_id = '{stuck}') EXECUTE FUNCTION refuse(); \
         ALTER TABLE stock_lots ENABLE ALWAYS TRIGGER refuse;"
    ))
    .await
    .expect("trigger");
    let mut s = app.sessions_conn().await;
    let ids: Vec<String> = sessions_by_tenant
        .iter()
        .map(|(id, _)| format!("'{id}'"))
        .collect();
    s.batch_execute(&format!(
        "UPDATE demo_sessions SET expires_at = now() - interval '1 second' WHERE id IN ({})",
        ids.join(", ")
    ))
    .await
    .expect("expire five");

    let report = app.sessions.cleanup().await.expect("cleanup");

    let mut cleaned: Vec<String> = report
        .cleaned
        .iter()
        .map(|c| c.session_id.to_string())
        .collect();
    cleaned.sort();
    let mut expected: Vec<String> = sessions_by_tenant
        .iter()
        .filter(|(id, _)| *id != stuck_id)
        .map(|(id, _)| id.clone())
        .collect();
    expected.sort();
    assert_eq!(cleaned, expected, "every other session removed");
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!(report.failures[0].session_id.as_str(), stuck_id);
    assert_eq!(report.removed.tenant_rows, 4);
    assert!(report.removed.inventory_rows["stock_movements"] > 0);
    assert_eq!(report.removed.redis_keys, 4);
    for (_, t) in sessions_by_tenant.iter().filter(|(id, _)| *id != stuck_id) {
        assert!(
            inventory_counts(&mut inv, *t)
                .await
                .values()
                .all(|n| *n == 0)
        );
        let exists: i64 = redis::cmd("EXISTS")
            .arg(cache_key(*t))
            .query_async(&mut redis)
            .await
            .expect("exists");
        assert_eq!(exists, 0, "{t}'s keys removed");
    }
    // the one that could not go is kept whole and its failure recorded; the live one and
    // its keys are untouched
    assert!(
        inventory_counts(&mut inv, stuck)
            .await
            .values()
            .any(|n| *n > 0)
    );
    let row = sessions::find(&mut s, &stuck_id.parse().expect("id"))
        .await
        .expect("query")
        .expect("row");
    assert_eq!(row.cleanup_attempts, 1);
    assert!(
        row.last_cleanup_error
            .is_some_and(|e| e.contains("database busy"))
    );
    assert!(
        inventory_counts(&mut inv, live)
            .await
            .values()
            .any(|n| *n > 0)
    );
    let exists: i64 = redis::cmd("EXISTS")
        .arg(cache_key(live))
        .query_async(&mut redis)
        .await
        .expect("exists");
    assert_eq!(exists, 1, "a live tenant's keys stay");
}

#[tokio::test]
async fn stuck_pending_sessions_and_orphan_tenants_are_removed() {
    let app = spawn_app().await;
    // an orphan: a virtual tenant whose session row never made it
    let body = app.create("individual_bakery").await;
    let orphan = uuid_of(&body["virtual_tenant_id"]);
    let mut s = app.sessions_conn().await;
    s.batch_execute("DELETE FROM demo_sessions")
        .await
        .expect("lose the row");
    // a stuck clone: pending for ten minutes
    let stuck = bakery_test_support::session_id();
    s.batch_execute(&format!(
        "INSERT INTO demo_sessions (id, virtual_tenant_id, base_tenant_id, demo_account_type, status, \
            clone_strategy, created_at, expires_at) VALUES ('{stuck}', '{}', '{SAN_PABLO}', \
            'individual_bakery', 'pending', 'k8s-job', now() - interval '10 minutes', now() + interval '20 minutes')",
        Uuid::new_v4()
    ))
    .await
    .expect("stuck session");

    let report = app.sessions.cleanup().await.expect("cleanup");
    assert_eq!(report.orphans_removed, vec![orphan]);
    assert_eq!(report.cleaned.len(), 1);
    assert_eq!(report.cleaned[0].session_id, stuck);
    let mut inv = app.inventory_conn().await;
    assert!(
        inventory_counts(&mut inv, orphan)
            .await
            .values()
            .all(|n| *n == 0)
    );
    #[derive(diesel::QueryableByName)]
    struct St {
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        failure_reason: Option<String>,
    }
    let st: St = sql_query("SELECT status, failure_reason FROM demo_sessions WHERE id = $1")
        .bind::<Text, _>(stuck.as_str())
        .get_result(&mut s)
        .await
        .expect("status");
    assert_eq!(st.status, "failed");
    assert!(st.failure_reason.is_some());
}

#[tokio::test]
async fn only_the_gateway_says_who_the_client_is() {
    let app = spawn_app_with(|s| s.rate_limit_per_hour = 1).await;
    // a direct caller writing X-Forwarded-For is still its own (peer) address
    let direct = |xff: &'static str| {
        app.client
            .post(app.url("/api/demo/session/create"))
            .header("X-Forwarded-For", xff)
            .json(&serde_json::json!({"demo_account_type": "individual_bakery"}))
            .send()
    };
    assert_eq!(direct("203.0.113.1").await.expect("create").status(), 201);
    let r = direct("203.0.113.2").await.expect("create");
    assert_eq!(
        r.status(),
        429,
        "a fresh X-Forwarded-For is not a fresh bucket"
    );
    // a non-ASCII X-Forwarded-For changes nothing either
    let r = app
        .client
        .post(app.url("/api/demo/session/create"))
        .header(
            "X-Forwarded-For",
            reqwest::header::HeaderValue::from_bytes(b"203.0.113.\xe9").expect("bytes"),
        )
        .json(&serde_json::json!({"demo_account_type": "individual_bakery"}))
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 429);
    // the gateway's assertion names another client: its own bucket
    assert_eq!(
        app.create_as("individual_bakery", "198.51.100.9")
            .await
            .status()
            .as_u16(),
        201
    );
    // an assertion that does not verify is refused, not ignored
    let r = app
        .client
        .post(app.url("/api/demo/session/create"))
        .header(
            bakery_config::client::CLIENT_HEADER,
            "eyJhbGciOiJIUzI1NiJ9.e30.forged",
        )
        .json(&serde_json::json!({"demo_account_type": "individual_bakery"}))
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "invalid_client");
}

#[tokio::test]
async fn rate_limit_per_client_groups_ipv6_by_64() {
    let app = spawn_app_with(|s| s.rate_limit_per_hour = 2).await;
    for ip in ["2001:db8:5:6::1", "2001:db8:5:6::2"] {
        assert_eq!(
            app.create_as("individual_bakery", ip)
                .await
                .status()
                .as_u16(),
            201
        );
    }
    // same /64, another address: over the limit
    let r = app
        .create_as("individual_bakery", "2001:db8:5:6:abcd::9")
        .await;
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("secs");
    assert!((1..=3600).contains(&retry));
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "rate_limited");
    assert!(v["message"].as_str().expect("msg").contains("demasiadas"));
    // another /64 is another client
    assert_eq!(
        app.create_as("individual_bakery", "2001:db8:5:7::1")
            .await
            .status()
            .as_u16(),
        201
    );

    // only a keyed hash of the address group is stored: one per /64, 32 hex digits, and
    // no column of any session row holds the address in any spelling
    let mut s = app.sessions_conn().await;
    #[derive(diesel::QueryableByName)]
    struct H {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        client_ip_hash: Option<String>,
        #[diesel(sql_type = Text)]
        whole_row: String,
    }
    let rows: Vec<H> = sql_query(
        "SELECT client_ip_hash, d::text AS whole_row FROM demo_sessions d ORDER BY created_at",
    )
    .load(&mut s)
    .await
    .expect("rows");
    let hashes: Vec<String> = rows
        .iter()
        .map(|r| r.client_ip_hash.clone().expect("a hash"))
        .collect();
    assert_eq!(hashes.len(), 3);
    assert_eq!(hashes[0], hashes[1], "one /64, one client");
    assert_ne!(hashes[0], hashes[2], "another /64, another client");
    for (h, row) in hashes.iter().zip(&rows) {
        assert!(
            h.len() == 32 && h.chars().all(|c| c.is_ascii_hexdigit()),
            "{h}"
        );
        for spelling in ["2001:db8", "2001:0db8", "db8:5:6", "db8:5:7"] {
            assert!(!row.whole_row.contains(spelling), "{}", row.whole_row);
        }
    }
}

#[tokio::test]
async fn the_global_cap_answers_503_with_retry_after() {
    // without a waiting room (`DEMO_QUEUE_MAX=0`; with one: tests/waiting_room.rs)
    let app = spawn_app_with(|s| {
        s.max_active_sessions = 1;
        s.queue_max = 0;
    })
    .await;
    app.create("individual_bakery").await;
    let r = app
        .create_as("central_baker_satellite", "203.0.113.99")
        .await;
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "capacity_reached");
}

#[tokio::test]
async fn a_burst_of_creates_never_goes_past_the_cap() {
    let app = spawn_app_with(|s| s.max_active_sessions = 3).await;
    let clients: Vec<String> = (0..8).map(|i| format!("203.0.113.{}", 100 + i)).collect();
    let burst = clients.iter().enumerate().map(|(i, ip)| {
        let account = if i % 2 == 0 {
            "individual_bakery"
        } else {
            "central_baker_satellite"
        };
        app.create_as(account, ip)
    });
    let statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    // the others wait in line, in the order they were admitted
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        5,
        "{statuses:?}"
    );
    // and exactly three virtual tenants exist
    let mut tenant = app.tenant_conn().await;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = tenant
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            sql_query("SELECT count(*) AS n FROM tenants WHERE is_demo")
                .get_result(c)
                .await
        })
        .await
        .expect("count");
    assert_eq!(n.n, 3);
}

#[tokio::test]
async fn bad_input_gets_clear_json_errors() {
    let app = spawn_app().await;
    let r = app.create_as("bakery_of_doom", "203.0.113.5").await;
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"],
        "invalid_account_type"
    );

    let r = app
        .client
        .post(app.url("/api/demo/session/create"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"],
        "malformed_json"
    );

    for path in [
        "/api/demo/session/demo_0000000000000000000000000000000A",
        "/api/demo/session/not-a-session",
        "/api/demo/session/demo_..%2F..%2Fetc",
    ] {
        let r = app.client.get(app.url(path)).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 404, "{path}");
        assert_eq!(
            r.json::<Value>().await.expect("json")["error"],
            "session_not_found"
        );
    }
}

#[tokio::test]
async fn admin_endpoints_need_the_admin_key_and_stats_count_sessions() {
    let app = spawn_app().await;
    app.create("individual_bakery").await;
    let b = app.create("central_baker_satellite").await;
    app.client
        .post(app.url(&format!(
            "/api/demo/session/{}/extend",
            b["session_id"].as_str().expect("id")
        )))
        .send()
        .await
        .expect("extend");

    for (method, path) in [
        ("GET", "/api/demo/stats"),
        ("POST", "/api/demo/cleanup/run"),
    ] {
        for key in [None, Some("wrong-key")] {
            let mut r = app
                .client
                .request(method.parse().expect("method"), app.url(path));
            if let Some(k) = key {
                r = r.header("X-Admin-Key", k);
            }
            let r = r.send().await.expect("send");
            assert_eq!(r.status().as_u16(), 401, "{method} {path} {key:?}");
            assert_eq!(
                r.json::<Value>().await.expect("json")["error"],
                "admin_required"
            );
        }
    }
    let stats: Value = app
        .client
        .get(app.url("/api/demo/stats"))
        .header("X-Admin-Key", ADMIN_KEY)
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["total"], 2);
    assert_eq!(stats["active"], 2);
    assert_eq!(stats["by_status"]["ready"], 2);
    assert_eq!(
        stats["by_account_type"]["central_baker_satellite"]["ready"],
        1
    );
    assert_eq!(stats["extensions"]["total"], 1);
    assert!(stats["clone_ms"]["p50"].as_f64().is_some());
    assert_eq!(stats["created_per_hour"][0]["sessions"], 2);
    // the whole document, with what depends on when and how fast the test ran redacted
    insta::assert_json_snapshot!("demo_stats", stats, {
        ".created_per_hour[].hour" => "[hour]",
        ".clone_ms.p50" => "[milliseconds]",
        ".clone_ms.p95" => "[milliseconds]",
        ".clone_ms.max" => "[milliseconds]",
        ".funnel.from" => "[day]",
        ".funnel.to" => "[day]",
        ".funnel.by_day[].day" => "[day]",
    });
}

#[tokio::test]
async fn accounts_lists_both_bakeries_in_spanish() {
    let app = spawn_app().await;
    let v: Value = app
        .client
        .get(app.url("/api/demo/accounts"))
        .send()
        .await
        .expect("accounts")
        .json()
        .await
        .expect("json");
    let accounts = v["accounts"].as_array().expect("list");
    assert_eq!(accounts.len(), 2);
    assert!(
        accounts
            .iter()
            .any(|a| a["email"] == "demo.individual@panaderiasanpablo.com"
                && a["password"] == "DemoSanPablo2024!")
    );
    assert!(
        accounts
            .iter()
            .any(|a| a["email"] == "demo.central@panaderialaespiga.com")
    );
}

#[tokio::test]
async fn the_clone_plan_covers_every_tenant_owned_table_parents_first() {
    let app = spawn_app().await;
    let plan: Vec<String> = app.sessions.plan().tables().to_vec();
    let mut got = plan.clone();
    got.sort();
    let mut expected: Vec<String> = bakery_inventory::schema::TABLES_IN_FK_ORDER
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    expected.sort();
    assert_eq!(got, expected);
    let pos = |t: &str| plan.iter().position(|x| x == t).expect("in plan");
    for (child, parent) in [
        ("sale_lines", "sales"),
        ("sale_lines", "products"),
        ("recipe_lines", "recipes"),
        ("stock_movements", "stock_lots"),
        ("deliveries", "purchase_orders"),
        ("ingredients", "suppliers"),
    ] {
        assert!(pos(parent) < pos(child), "{parent} before {child}");
    }
}

#[tokio::test]
async fn ending_a_session_whose_data_cannot_go_yet_answers_202_and_cleanup_finishes_it() {
    let app = spawn_app().await;
    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id").to_owned();
    let tenant = uuid_of(&body["virtual_tenant_id"]);
    // the inventory database refuses deletes for a while
    let mut inv = app.inventory_conn().await;
    inv.batch_execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN RAISE EXCEPTION 'database busy (simulated)'; END $$; \
         CREATE TRIGGER refuse BEFORE DELETE ON sales FOR EACH STATEMENT EXECUTE FUNCTION refuse(); \
         ALTER TABLE sales ENABLE ALWAYS TRIGGER refuse;",
    )
    .await
    .expect("trigger");
    let r = app.end_session(&id).await;
    assert_eq!(r.status().as_u16(), 202);
    assert_eq!(r.json::<Value>().await.expect("json")["status"], "expired");
    // ended for the prospect already
    let r = app.get_session(&id).await;
    assert_eq!(r.status().as_u16(), 401);

    // the failure is recorded with its reason, and the session is not destroyed yet
    let mut s = app.sessions_conn().await;
    let typed: SessionId = id.parse().expect("a session id");
    let row = sessions::find(&mut s, &typed)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(row.status, SessionStatus::Expired);
    assert_eq!(row.cleanup_attempts, 1);
    assert!(
        row.last_cleanup_error
            .is_some_and(|e| e.contains("database busy"))
    );
    assert_eq!(row.destroyed_at, None);
    assert!(
        inventory_counts(&mut inv, tenant)
            .await
            .values()
            .any(|n| *n > 0)
    );

    // within the back-off a pass leaves it alone; after it, a pass removes everything
    inv.batch_execute("DROP TRIGGER refuse ON sales")
        .await
        .expect("drop trigger");
    let report = app.sessions.cleanup().await.expect("cleanup");
    assert!(report.cleaned.is_empty(), "{report:?}");
    s.batch_execute(&format!(
        "UPDATE demo_sessions SET updated_at = now() - interval '1 hour' WHERE id = '{id}'"
    ))
    .await
    .expect("skip the back-off");
    let report = app.sessions.cleanup().await.expect("cleanup");
    assert_eq!(report.cleaned.len(), 1, "{report:?}");
    assert!(
        inventory_counts(&mut inv, tenant)
            .await
            .values()
            .all(|n| *n == 0)
    );
    let row = sessions::find(&mut s, &typed)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(row.status, SessionStatus::Destroyed);
    assert_eq!(row.last_cleanup_error, None);
}

#[tokio::test]
async fn demo_session_migrations_apply_and_roll_back_completely() {
    // up, down (the schema is the empty database's again), up (the same schema)
    let schema = bakery_test_support::assert_migrations_reversible(DEMO_SESSION).await;
    let tables = bakery_test_support::tables(&schema);
    for table in ["demo_sessions", "warm_tenants"] {
        let relation = format!("relation {table} r ");
        assert!(
            tables.iter().any(|t| t.starts_with(&relation)),
            "{table} missing from {tables:#?}"
        );
    }
}

#[tokio::test]
async fn copies_with_and_without_per_row_foreign_key_checks_are_the_same() {
    use bakery_demo_session::cloner::{self, CloneFor, ClonePlan, CloneRequest, ForeignKeyChecks};
    let app = spawn_app().await;
    let template: Uuid = SAN_PABLO.parse().expect("uuid");
    let mut inv = app.inventory_conn().await;
    let expected = clone_counts(&mut inv, template).await;
    let plan = ClonePlan::load(&mut inv).await.expect("plan");
    let mut shared = plan.shared().to_vec();
    shared.sort();
    assert_eq!(shared, SHARED, "the shared tables, from the catalog");
    for checks in [ForeignKeyChecks::PerRow, ForeignKeyChecks::SkippedForCopy] {
        let tenant = Uuid::new_v4();
        let request = CloneRequest {
            template_id: template,
            virtual_tenant_id: tenant,
            owner: CloneFor::WarmPool,
            expires_at: chrono::Utc::now(),
        };
        let plan = plan.clone().with_foreign_key_checks(checks);
        cloner::copy_inventory(&mut inv, &plan, &request)
            .await
            .unwrap_or_else(|e| panic!("{checks:?}: {e}"));
        assert_eq!(
            inventory_counts(&mut inv, tenant).await,
            expected,
            "{checks:?}"
        );
        // and the copy can be written to like any tenant: its keys resolve
        let written = inv
            .transaction::<_, diesel::result::Error, _>(async |c| {
                db::scope_to_tenant(c, tenant).await?;
                sql_query(
                    "INSERT INTO stock_movements (tenant_id, id, lot_id, product_id, quantity_delta, reason) \
                     SELECT tenant_id, gen_random_uuid(), id, product_id, -1, 'waste' \
                     FROM stock_lots WHERE tenant_id = $1 AND product_id IS NOT NULL LIMIT 1",
                )
                .bind::<SqlUuid, _>(tenant)
                .execute(c)
                .await
            })
            .await
            .unwrap_or_else(|e| panic!("{checks:?}: {e}"));
        assert_eq!(written, 1, "{checks:?}");
    }
}

#[tokio::test]
async fn the_redis_copy_lives_at_most_redis_session_ttl() {
    let app =
        spawn_app_with(|s| s.demo.redis_session_ttl = std::time::Duration::from_secs(60)).await;
    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id");
    let key = format!("{}demo:session:{id}", app.settings.redis.key_prefix);
    let mut redis = app.redis().await;
    let ttl = |mut redis: redis::aio::MultiplexedConnection, key: String| async move {
        redis::cmd("TTL")
            .arg(&key)
            .query_async::<i64>(&mut redis)
            .await
            .expect("ttl")
    };
    // thirty minutes left, but the copy lives one minute
    let first = ttl(redis.clone(), key.clone()).await;
    assert!((55..=60).contains(&first), "ttl {first}");
    // an extension does not lift the cap
    assert_eq!(app.extend_session(id).await.status().as_u16(), 200);
    let extended = ttl(redis.clone(), key.clone()).await;
    assert!((55..=60).contains(&extended), "ttl {extended}");
    // once the copy is gone, demo-session answers the gateway's fallback from PostgreSQL
    redis::cmd("DEL")
        .arg(&key)
        .query_async::<()>(&mut redis)
        .await
        .expect("del");
    let r = app.get_session(id).await;
    assert_eq!(r.status().as_u16(), 200);
    let got: Value = r.json().await.expect("json");
    assert_eq!(got["status"], "ready");
    assert!(got["seconds_left"].as_i64().expect("secs") > 59 * 60);
}

#[tokio::test]
async fn a_row_that_does_not_parse_is_an_error_naming_the_value() {
    let app = spawn_app().await;
    let body = app.create("individual_bakery").await;
    let id = body["session_id"].as_str().expect("id");
    // only possible without the CHECK constraint; never skipped quietly if it happens
    let mut s = app.sessions_conn().await;
    s.batch_execute(
        "ALTER TABLE demo_sessions DROP CONSTRAINT demo_sessions_status_check; \
         UPDATE demo_sessions SET status = 'paused'",
    )
    .await
    .expect("a status no session has");
    let typed: SessionId = id.parse().expect("a session id");
    let e = sessions::find(&mut s, &typed)
        .await
        .expect_err("not a status");
    // the column, then the value (what a 5xx's log shows)
    let chain = bakery_config::http::chain(&e);
    assert!(
        chain.contains("status") && chain.contains("unknown demo session status \"paused\""),
        "{chain}"
    );
    // through the API: a 500 in the envelope; the cause goes to the log only
    let r = app.get_session(id).await;
    assert_eq!(r.status().as_u16(), 500);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "internal_error");
    assert!(!v.to_string().contains("paused"), "{v}");
}

#[tokio::test]
async fn without_a_database_connection_requests_are_refused_503_with_retry_after() {
    let app = spawn_app_with(|s| {
        // the sessions database cannot be reached: no pooled connection can be had
        if let Some((server, _)) = s.database.url.rsplit_once('/') {
            s.database.url = format!("{server}/no_such_database");
        }
    })
    .await;
    let id = bakery_test_support::session_id();
    let r = app.get_session(id.as_str()).await;
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "unavailable");
}
