//! `db::static_sql`: a raw statement PostgreSQL keeps prepared on the connection, where
//! `sql_query` prepares it again every time (a round trip more). Against the private
//! PostgreSQL `scripts/test.sh` starts; only session state is touched.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use bakery_config::db::{AsyncPgConnection, build_pool_for_url, scope_to_tenant, static_sql};
use bakery_config::settings::LOCAL_POSTGRES;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("{LOCAL_POSTGRES}/postgres"))
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many statements with this text the connection holds prepared.
async fn prepared_on(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1")
        .bind::<Text, _>(sql)
        .get_result::<N>(conn)
        .await
        .expect("pg_prepared_statements")
        .n
}

#[tokio::test]
async fn a_static_statement_is_prepared_once_and_answers_each_time_with_its_binds() {
    let pool = build_pool_for_url(&admin_url(), 1).unwrap();
    let mut conn = pool.get().await.expect("a connection");
    const SUM: &str = "SELECT ($1::int + $2::int)::int8 AS n /* static_sql test */";
    for (a, b) in [(2, 3), (40, 2), (-1, 1)] {
        let row: N = static_sql(SUM)
            .bind::<Integer, _>(a)
            .bind::<Integer, _>(b)
            .get_result(&mut *conn)
            .await
            .expect("the statement runs");
        assert_eq!(row.n, i64::from(a + b));
    }
    assert_eq!(prepared_on(&mut conn, SUM).await, 1, "kept prepared, once");

    // what it replaces: sql_query's statement is prepared per run and closed after it
    const SAME_WITH_SQL_QUERY: &str = "SELECT ($1::int + $2::int)::int8 AS n /* sql_query */";
    diesel::sql_query(SAME_WITH_SQL_QUERY)
        .bind::<Integer, _>(1)
        .bind::<Integer, _>(1)
        .get_result::<N>(&mut *conn)
        .await
        .expect("the statement runs");
    assert_eq!(prepared_on(&mut conn, SAME_WITH_SQL_QUERY).await, 0);
}

#[tokio::test]
async fn a_tenant_scope_ends_with_its_transaction_on_a_pooled_connection() {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        tenant: String,
    }
    async fn current(conn: &mut AsyncPgConnection) -> String {
        diesel::sql_query("SELECT coalesce(current_setting('app.tenant_id', true), '') AS tenant")
            .get_result::<Setting>(conn)
            .await
            .expect("current_setting")
            .tenant
    }
    let pool = build_pool_for_url(&admin_url(), 1).unwrap();
    let mut conn = pool.get().await.expect("a connection");
    for tenant in [Uuid::new_v4(), Uuid::new_v4()] {
        let inside = conn
            .transaction::<_, diesel::result::Error, _>(async |c| {
                scope_to_tenant(c, tenant).await?;
                Ok(current(c).await)
            })
            .await
            .expect("the transaction");
        assert_eq!(inside, tenant.to_string());
        assert_eq!(
            current(&mut conn).await,
            "",
            "nothing left for the next user"
        );
    }
}
