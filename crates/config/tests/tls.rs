//! TLS to the private PostgreSQL and Redis that `scripts/test.sh` starts (`scripts/lib.sh`:
//! `ssl = on`, Redis' TLS port, a CA and a server certificate for `localhost` and
//! `127.0.0.1` made once under `.local/tls`). Real servers, real handshakes.
//!
//! The servers' set-up is exported as `BAKERY_TEST_TLS_CA` (the CA that signed them),
//! `BAKERY_TEST_TLS_OTHER_CA` (one that did not) and `BAKERY_TEST_REDIS_TLS_PORT`. Without
//! them (plain `cargo nextest run` against an older stack) the tests say so and pass,
//! unless `BAKERY_TEST_REQUIRE_TLS=1` (what `scripts/test.sh` sets), where they fail.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "a test fails loudly on what it cannot set up, and says why it skips"
)]

use std::path::PathBuf;
use std::time::Duration;

use bakery_config::db::{AsyncPgConnection, PgTarget, SslMode, build_pool_with_limits};
use bakery_config::settings::{DatabaseLimits, LOCAL_POSTGRES, RedisSettings};
use diesel::QueryableByName;
use diesel::sql_types::{Bool, Text};
use diesel_async::RunQueryDsl;

struct TlsServers {
    ca: PathBuf,
    other_ca: PathBuf,
    redis_tls_port: u16,
    /// `host:port` of the private PostgreSQL, as tests reach it in plain text.
    pg_port: String,
}

fn servers() -> Option<TlsServers> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (
        var("BAKERY_TEST_TLS_CA"),
        var("BAKERY_TEST_TLS_OTHER_CA"),
        var("BAKERY_TEST_REDIS_TLS_PORT"),
    ) {
        (Some(ca), Some(other_ca), Some(port)) => {
            let admin =
                var("TEST_DATABASE_URL").unwrap_or_else(|| format!("{LOCAL_POSTGRES}/postgres"));
            let pg_port = admin
                .rsplit_once(':')
                .and_then(|(_, rest)| rest.split('/').next())
                .expect("TEST_DATABASE_URL has a port")
                .to_owned();
            Some(TlsServers {
                ca: ca.into(),
                other_ca: other_ca.into(),
                redis_tls_port: port.parse().expect("BAKERY_TEST_REDIS_TLS_PORT is a port"),
                pg_port,
            })
        }
        _ if var("BAKERY_TEST_REQUIRE_TLS").as_deref() == Some("1") => panic!(
            "BAKERY_TEST_TLS_CA, BAKERY_TEST_TLS_OTHER_CA and BAKERY_TEST_REDIS_TLS_PORT must be set (scripts/lib.sh exports them)"
        ),
        _ => {
            eprintln!("skipped: no TLS servers (run scripts/test.sh, or export BAKERY_TEST_TLS_*)");
            None
        }
    }
}

impl TlsServers {
    /// A URL of the private PostgreSQL's `postgres` database (read only here) by `host`.
    fn pg_url(&self, host: &str, params: &str) -> String {
        format!(
            "postgres://bakery@{host}:{}/postgres?{params}",
            self.pg_port
        )
    }

    fn redis(&self, host: &str, ca: Option<&PathBuf>) -> RedisSettings {
        RedisSettings {
            url: format!("rediss://{host}:{}", self.redis_tls_port),
            ca_file: ca.cloned(),
            pool_size: 2,
            key_prefix: format!("test:{}:", uuid::Uuid::new_v4().simple()),
        }
    }
}

#[derive(QueryableByName)]
struct Ssl {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

/// Whether PostgreSQL sees this connection as encrypted.
async fn encrypted(conn: &mut AsyncPgConnection) -> bool {
    diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result::<Ssl>(conn)
        .await
        .expect("pg_stat_ssl")
        .ssl
}

/// A connection error's text, from a URL that must not connect.
async fn refused(url: &str) -> String {
    let target = PgTarget::from_url(url).expect("the URL is valid");
    match target.connect().await {
        Ok(_) => panic!("{url} connected"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn verify_full_to_localhost_is_encrypted_and_keeps_the_session_limits() {
    let Some(s) = servers() else { return };
    let url = s.pg_url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", s.ca.display()),
    );
    let limits = DatabaseLimits {
        statement_timeout: Duration::from_millis(4321),
        ..DatabaseLimits::default()
    };
    let pool = build_pool_with_limits(&url, 2, limits).expect("pool");
    let mut conn = pool.get().await.expect("a TLS connection");
    assert!(
        encrypted(&mut conn).await,
        "the connection is not encrypted"
    );
    // the per-connection SETs of build_pool_with_limits ran over TLS too
    let timeout: Setting =
        diesel::sql_query("SELECT current_setting('statement_timeout') AS value")
            .get_result(&mut *conn)
            .await
            .expect("current_setting");
    assert_eq!(timeout.value, "4321ms");
}

#[tokio::test]
async fn verify_full_to_the_ip_in_the_certificate_works() {
    let Some(s) = servers() else { return };
    let url = s.pg_url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={}", s.ca.display()),
    );
    let mut conn = PgTarget::from_url(&url)
        .unwrap()
        .connect()
        .await
        .expect("connects");
    assert!(encrypted(&mut conn).await);
}

#[tokio::test]
async fn verify_full_refuses_a_name_the_certificate_does_not_hold_and_verify_ca_accepts_it() {
    let Some(s) = servers() else { return };
    // the right server (hostaddr), reached under a name its certificate does not hold
    let params = |mode: &str| {
        format!(
            "hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={}",
            s.ca.display()
        )
    };
    let error = refused(&s.pg_url("db.bakery-ia.invalid", &params("verify-full"))).await;
    assert!(
        error.contains("sslmode=verify-full")
            && error.contains("certificate not valid for name \"db.bakery-ia.invalid\""),
        "{error}"
    );
    // verify-ca checks the chain only
    let target =
        PgTarget::from_url(&s.pg_url("db.bakery-ia.invalid", &params("verify-ca"))).unwrap();
    assert_eq!(target.ssl_mode(), Some(SslMode::VerifyCa));
    let mut conn = target.connect().await.expect("verify-ca ignores the name");
    assert!(encrypted(&mut conn).await);
}

#[tokio::test]
async fn a_ca_that_did_not_sign_the_server_is_refused() {
    let Some(s) = servers() else { return };
    for mode in ["verify-full", "verify-ca", "require"] {
        let url = s.pg_url(
            "localhost",
            &format!("sslmode={mode}&sslrootcert={}", s.other_ca.display()),
        );
        let error = refused(&url).await;
        assert!(error.contains("UnknownIssuer"), "{mode}: {error}");
    }
}

#[tokio::test]
async fn require_without_a_ca_encrypts_without_checking() {
    let Some(s) = servers() else { return };
    let url = s.pg_url("localhost", "sslmode=require");
    let mut conn = PgTarget::from_url(&url)
        .unwrap()
        .connect()
        .await
        .expect("connects");
    assert!(encrypted(&mut conn).await);
    // and without sslmode, as before: plain
    let mut conn = PgTarget::from_url(&s.pg_url("127.0.0.1", ""))
        .unwrap()
        .connect()
        .await
        .expect("connects");
    assert!(!encrypted(&mut conn).await);
}

#[tokio::test]
async fn a_missing_ca_file_stops_the_pool_before_any_connection() {
    let Some(s) = servers() else { return };
    let url = s.pg_url(
        "localhost",
        "sslmode=verify-full&sslrootcert=/nowhere/bakery-ia/ca.crt",
    );
    let error = build_pool_with_limits(&url, 1, DatabaseLimits::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        error.contains("/nowhere/bakery-ia/ca.crt") && error.contains("cannot be read"),
        "{error}"
    );
}

#[tokio::test]
async fn rediss_with_the_servers_ca_pings_sets_and_gets() {
    let Some(s) = servers() else { return };
    for host in ["localhost", "127.0.0.1"] {
        let settings = s.redis(host, Some(&s.ca));
        let pool = bakery_config::cache::build_pool(&settings).expect("pool");
        let mut conn = pool.get().await.expect("a TLS connection");
        let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
        assert_eq!(pong, "PONG");
        let key = format!("{}tls", settings.key_prefix);
        let () = redis::cmd("SET")
            .arg(&key)
            .arg("encrypted")
            .arg("EX")
            .arg(60)
            .query_async(&mut conn)
            .await
            .unwrap();
        let value: String = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(value, "encrypted");
        let _: u64 = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn rediss_with_another_ca_is_refused() {
    let Some(s) = servers() else { return };
    let pool = bakery_config::cache::build_pool(&s.redis("localhost", Some(&s.other_ca)))
        .expect("pool (connections are lazy)");
    let error = pool.get().await.err().expect("refused").to_string();
    assert!(error.contains("UnknownIssuer"), "{error}");
    // and the subscriber's client (the gateway's invalidations) is refused the same way
    let client = bakery_config::cache::client(&s.redis("localhost", Some(&s.other_ca))).unwrap();
    assert!(client.get_multiplexed_async_connection().await.is_err());
}

#[tokio::test]
async fn rediss_insecure_is_refused() {
    let Some(s) = servers() else { return };
    let mut settings = s.redis("localhost", None);
    settings.url.push_str("/#insecure");
    let error = bakery_config::cache::build_pool(&settings)
        .expect_err("refused")
        .to_string();
    assert!(error.contains("#insecure"), "{error}");
}

/// `migrate` (diesel_migrations on a blocking thread) goes through TLS too: the tenant
/// migrations applied and reverted over `verify-full`, on a database of this test's own.
#[tokio::test]
async fn migrations_run_over_tls() {
    const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
        diesel_migrations::embed_migrations!("../../migrations/tenant");
    let Some(s) = servers() else { return };
    let name = format!("test_tls_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgTarget::from_url(&s.pg_url("127.0.0.1", ""))
        .unwrap()
        .connect()
        .await
        .expect("plain admin connection");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = format!(
        "postgres://bakery@localhost:{}/{name}?sslmode=verify-full&sslrootcert={}",
        s.pg_port,
        s.ca.display()
    );
    let applied = bakery_config::db::run_migrations(&url, MIGRATIONS).await;
    let reverted = bakery_config::db::revert_all_migrations(&url, MIGRATIONS).await;
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    let applied = applied.expect("migrations over TLS");
    assert!(!applied.is_empty());
    assert_eq!(reverted.expect("reverted over TLS").len(), applied.len());
}
