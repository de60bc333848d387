//! During an upgrade a new pod must not serve before its release's migrations ran: `/ready`
//! says so (503, with the versions) until the schema is at the version the binary embeds,
//! and an older build on a newer schema (a rollback) stays ready.

use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::StatusCode;

use crate::helpers::{json, spawn_app};

/// The newest migration version the database recorded.
async fn latest_version(conn: &mut AsyncPgConnection) -> String {
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = Text)]
        version: String,
    }
    diesel::sql_query("SELECT max(version) AS version FROM __diesel_schema_migrations")
        .get_result::<V>(conn)
        .await
        .expect("latest version")
        .version
}

#[tokio::test]
async fn a_build_ahead_of_its_schema_is_not_ready_and_says_why() {
    let app = spawn_app().await;
    let mut conn = AsyncPgConnection::establish(&app.db.url)
        .await
        .expect("connect");
    // as if the release's newest migration had not run yet
    let newest = latest_version(&mut conn).await;
    diesel::sql_query("DELETE FROM __diesel_schema_migrations WHERE version = $1")
        .bind::<Text, _>(&newest)
        .execute(&mut conn)
        .await
        .expect("forget the newest migration");

    let response = app.get_with("/ready", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(response).await;
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["postgres"], "ok", "the database answers");
    let why = body["checks"]["schema"].as_str().expect("a reason");
    assert!(why.contains("1 migration(s) pending"), "{why}");
    assert!(why.contains(&newest), "names the missing version: {why}");
    assert!(
        why.contains("tenant-service migrate"),
        "says what to do: {why}"
    );
    // liveness is not readiness: the pod is not restarted for it
    assert_eq!(app.get_with("/health", None).await.status(), StatusCode::OK);

    // the migration Job finishes: ready
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ($1)")
        .bind::<Text, _>(&newest)
        .execute(&mut conn)
        .await
        .expect("record the migration again");
    let response = app.get_with("/ready", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["checks"]["schema"], "ok");
}

#[tokio::test]
async fn a_build_behind_its_schema_stays_ready() {
    let app = spawn_app().await;
    let mut conn = AsyncPgConnection::establish(&app.db.url)
        .await
        .expect("connect");
    // a newer release migrated the database; this (older) build is rolled back onto it
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231235959')")
        .execute(&mut conn)
        .await
        .expect("record a future migration");
    let response = app.get_with("/ready", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["checks"]["schema"], "ok");
}
