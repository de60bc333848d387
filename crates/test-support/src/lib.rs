//! Test harness shared by every crate.
//!
//! Each test gets its own PostgreSQL database, created with `CREATE DATABASE … TEMPLATE`
//! from a template that was migrated once (per migration set and migration content), and
//! dropped when the test ends. Tests therefore run in parallel, in any order, and leave
//! nothing behind. Redis is shared, so each test gets its own key prefix.
//!
//! The servers are the ones `scripts/test.sh` starts; `TEST_DATABASE_URL` (a database the
//! test role can connect to, with `CREATEDB`) and `TEST_REDIS_URL` point elsewhere.
//!
//! [`routes::route_table`]: a service's routes as actix built them, compared with its
//! OpenAPI document by each service's tests.
//!
//! [`bench::percentile`]: what the benchmarks report.
//!
//! [`metrics::Scrape`]: a service's `/metrics`, parsed into `(name, labels) → value`.
#![expect(
    clippy::expect_used,
    reason = "a harness that cannot set up should fail the test loudly"
)]

pub mod bench;
pub mod metrics;
pub mod routes;

use std::path::PathBuf;
use std::time::Duration;

use bakery_config::env::Secret;
use bakery_config::settings::{LOCAL_POSTGRES, LOCAL_REDIS, RedisSettings};
use diesel_migrations::EmbeddedMigrations;
use sha2::{Digest, Sha256};
use tokio_postgres::NoTls;

/// One migration set: the folder name under `migrations/` and the embedded migrations
/// (a function, since `EmbeddedMigrations` is a constant that is not `Clone`).
#[derive(Clone, Copy)]
pub struct MigrationSet {
    pub name: &'static str,
    pub migrations: fn() -> EmbeddedMigrations,
}

/// The admin connection URL (to the `postgres` database).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| format!("{LOCAL_POSTGRES}/postgres"))
}

/// `postgres://…/old?x` → `postgres://…/new?x`
pub fn url_with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

async fn admin_client() -> tokio_postgres::Client {
    let url = admin_url();
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("cannot connect to the test PostgreSQL at {url}: {e}. Run scripts/test.sh.")
        });
    tokio::spawn(connection);
    client
}

fn migrations_dir(set: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(set)
}

/// A digest of every file of a migration set, so a changed migration gets a new template.
fn fingerprint(set: &str) -> String {
    fingerprint_dirs(&[migrations_dir(set)], "")
}

/// A digest of every file under `dirs` plus `extra`.
fn fingerprint_dirs(dirs: &[PathBuf], extra: &str) -> String {
    let mut files = Vec::new();
    let mut stack = dirs.to_vec();
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hasher = Sha256::new();
    hasher.update(extra.as_bytes());
    for f in files {
        hasher.update(
            f.to_string_lossy()
                .rsplit("migrations")
                .next()
                .unwrap_or("")
                .as_bytes(),
        );
        hasher.update(std::fs::read(&f).unwrap_or_default());
    }
    // 6 bytes: 12 hex digits
    let mut tag = hex::encode(hasher.finalize());
    tag.truncate(12);
    tag
}

async fn create_database_from(
    client: &tokio_postgres::Client,
    name: &str,
    template: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    let sql = match template {
        Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
        None => format!("CREATE DATABASE \"{name}\""),
    };
    // The template may still show a just-closed connection for a few milliseconds.
    let mut attempt = 0;
    loop {
        match client.batch_execute(&sql).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Makes sure the migrated template for `set` exists; returns its name.
async fn ensure_template(client: &tokio_postgres::Client, set: MigrationSet) -> String {
    let template = format!("tmpl_{}_{}", set.name, fingerprint(set.name));
    ensure_template_named(client, set, template, |_| async {}).await
}

/// Makes sure template `template` exists: migrated with `set`, then prepared by `prepare`
/// (given its URL). Built once, under an advisory lock, renamed into place when complete.
async fn ensure_template_named<F, Fut>(
    client: &tokio_postgres::Client,
    set: MigrationSet,
    template: String,
    prepare: F,
) -> String
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let lock_key: i64 = template
        .bytes()
        .fold(7i64, |h, b| h.wrapping_mul(31).wrapping_add(i64::from(b)));
    client
        .execute("SELECT pg_advisory_lock($1)", &[&lock_key])
        .await
        .expect("advisory lock");
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&template])
        .await
        .expect("look up template")
        .is_some();
    if !exists {
        build_template(client, set, &template, prepare).await;
    }
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&lock_key])
        .await
        .expect("advisory unlock");
    template
}

/// Builds `template` under another name (migrated with `set`, then prepared by `prepare`)
/// and renames it into place only once complete, so a half-built template is never used.
async fn build_template<F, Fut>(
    client: &tokio_postgres::Client,
    set: MigrationSet,
    template: &str,
    prepare: F,
) where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let building = format!("{template}_building");
    client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
        ))
        .await
        .expect("drop stale template");
    create_database_from(client, &building, None)
        .await
        .expect("create template");
    let building_url = url_with_database(&admin_url(), &building);
    bakery_config::db::run_migrations(&building_url, (set.migrations)())
        .await
        .expect("migrate template");
    prepare(building_url).await;
    rename_database(client, &building, template).await;
}

/// Renames database `from` to `to`, waiting (a little) for its last connections to close.
async fn rename_database(client: &tokio_postgres::Client, from: &str, to: &str) {
    let mut attempt = 0;
    loop {
        match client
            .batch_execute(&format!("ALTER DATABASE \"{from}\" RENAME TO \"{to}\""))
            .await
        {
            Ok(()) => break,
            Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
            }
            Err(e) => panic!("rename template: {e}"),
        }
    }
}

/// A private database for one test; dropped (with its connections) when this is dropped.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// A fresh database with every migration of `set` applied.
    pub async fn migrated(set: MigrationSet) -> Self {
        let client = admin_client().await;
        let template = ensure_template(&client, set).await;
        Self::create(&client, set.name, Some(&template)).await
    }

    /// A fresh database with every migration of `set` applied and then prepared by
    /// `prepare` (seeding, say). The prepared state is built once and reused as a
    /// template; it is rebuilt when the migrations, the files under `inputs` (paths
    /// relative to the workspace root) or `today` change.
    pub async fn prepared<F, Fut>(
        set: MigrationSet,
        label: &str,
        inputs: &[&str],
        today: &str,
        prepare: F,
    ) -> Self
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut dirs = vec![migrations_dir(set.name)];
        dirs.extend(inputs.iter().map(|i| root.join(i)));
        let template = format!(
            "tmpl_{}_{label}_{}",
            set.name,
            fingerprint_dirs(&dirs, today)
        );
        let client = admin_client().await;
        let template = ensure_template_named(&client, set, template, prepare).await;
        Self::create(&client, set.name, Some(&template)).await
    }

    /// A fresh, empty database (for testing migrations themselves).
    pub async fn empty(label: &str) -> Self {
        let client = admin_client().await;
        Self::create(&client, label, None).await
    }

    async fn create(client: &tokio_postgres::Client, label: &str, template: Option<&str>) -> Self {
        let name = format!("test_{label}_{}", uuid::Uuid::new_v4().simple());
        create_database_from(client, &name, template)
            .await
            .expect("create test database");
        TestDatabase {
            url: url_with_database(&admin_url(), &name),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        // Drop runs inside the test's runtime; a thread with its own runtime can block.
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    if let Ok((client, conn)) = tokio_postgres::connect(&admin_url(), NoTls).await {
                        tokio::spawn(conn);
                        let _ = client
                            .batch_execute(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            }
        });
        let _ = handle.join();
    }
}

/// Everything a migration can create in the `public` schema, one line per object, sorted:
/// tables (with their row-level security flags), columns, constraints, indexes, functions,
/// policies, triggers, types and extensions. Two equal schemas give equal lines.
const SCHEMA_OBJECTS: &str = "\
SELECT x FROM ( \
  SELECT format('relation %s %s rls=%s forced=%s', c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity) \
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace \
  UNION ALL SELECT format('column %s.%s %s null=%s default=%s', table_name, column_name, data_type, is_nullable, column_default) \
    FROM information_schema.columns WHERE table_schema = 'public' \
  UNION ALL SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) \
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
  UNION ALL SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public' \
  UNION ALL SELECT format('function %s(%s)', proname, pg_get_function_identity_arguments(oid)) \
    FROM pg_proc WHERE pronamespace = 'public'::regnamespace \
  UNION ALL SELECT format('policy %s.%s %s %s %s', tablename, policyname, cmd, qual, with_check) \
    FROM pg_policies WHERE schemaname = 'public' \
  UNION ALL SELECT format('trigger %s.%s', tgrelid::regclass, tgname) FROM pg_trigger WHERE NOT tgisinternal \
  UNION ALL SELECT format('type %s %s', typname, typtype) FROM pg_type \
    WHERE typnamespace = 'public'::regnamespace AND typtype IN ('e', 'd', 'c', 'r') AND typrelid = 0 \
  UNION ALL SELECT format('extension %s', extname) FROM pg_extension \
) objects(x) \
WHERE x NOT LIKE '%\\_\\_diesel\\_schema\\_migrations%' ORDER BY x";

async fn schema_objects(url: &str) -> Vec<String> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(connection);
    client
        .query(SCHEMA_OBJECTS, &[])
        .await
        .expect("read the catalog")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Proves `down.sql` really undoes `up.sql` for a whole migration set: on a fresh database,
/// up, down and up again. After down the schema is exactly the empty database's (every
/// table, function, policy, index, type … gone); after the second up it is exactly the
/// first up's. Answers the migrated schema's objects for further checks.
pub async fn assert_migrations_reversible(set: MigrationSet) -> Vec<String> {
    let database = TestDatabase::empty(&format!("{}_reversible", set.name)).await;
    let empty = schema_objects(&database.url).await;
    let applied = bakery_config::db::run_migrations(&database.url, (set.migrations)())
        .await
        .expect("migrate up");
    assert!(!applied.is_empty(), "{}: no migrations", set.name);
    let up = schema_objects(&database.url).await;
    assert!(
        up.len() > empty.len(),
        "{}: up.sql created nothing",
        set.name
    );

    let reverted = bakery_config::db::revert_all_migrations(&database.url, (set.migrations)())
        .await
        .expect("migrate down");
    assert_eq!(
        reverted.len(),
        applied.len(),
        "{}: every migration reverts",
        set.name
    );
    let down = schema_objects(&database.url).await;
    let left: Vec<&String> = down.iter().filter(|o| !empty.contains(o)).collect();
    assert!(left.is_empty(), "{}: down.sql leaves {left:#?}", set.name);
    assert_eq!(
        down, empty,
        "{}: down.sql removed more than up.sql made",
        set.name
    );

    bakery_config::db::run_migrations(&database.url, (set.migrations)())
        .await
        .expect("migrate up again");
    assert_eq!(
        schema_objects(&database.url).await,
        up,
        "{}: up after down",
        set.name
    );
    up
}

/// The environment every binary of the stack needs, for a test that runs one as a process:
/// the test signing secrets, `redis` (its URL and key prefix) and a free port for the
/// gateway's metrics listener. Tests add the database and service URLs of their own.
pub fn binary_env(redis: &RedisSettings) -> Vec<(&'static str, String)> {
    let tokens = token_settings();
    vec![
        ("REDIS_URL", redis.url.clone()),
        ("REDIS_KEY_PREFIX", redis.key_prefix.clone()),
        (
            "INTERNAL_TOKEN_SECRET",
            tokens.internal_secret.expose().to_owned(),
        ),
        (
            "ACCESS_TOKEN_SECRET",
            tokens.access_secret.expose().to_owned(),
        ),
        (
            "SESSION_TOKEN_SECRET",
            tokens.session_secret.expose().to_owned(),
        ),
        // a gateway binary's metrics listener on a free port, never the default 9180 that
        // another test's gateway (or a running scripts/dev.sh) holds
        ("GATEWAY_METRICS_ADDR", "127.0.0.1:0".to_owned()),
    ]
}

/// The tables among [`assert_migrations_reversible`]'s objects, each as
/// `relation <name> r rls=<t|f> forced=<t|f>`.
pub fn tables(schema: &[String]) -> Vec<&String> {
    schema
        .iter()
        .filter(|o| o.starts_with("relation ") && o.contains(" r rls="))
        .collect()
}

/// Redis settings with a key prefix no other test uses.
pub fn redis_settings() -> RedisSettings {
    RedisSettings {
        url: std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| LOCAL_REDIS.to_owned()),
        ca_file: None,
        pool_size: 4,
        key_prefix: format!("test:{}:", uuid::Uuid::new_v4().simple()),
    }
}

/// A signing secret for tests (32+ bytes).
pub fn secret(label: &str) -> Secret {
    Secret::new(format!("test-{label}-secret-0123456789abcdef0123456789"))
}

/// The secret tests sign identities with (`INTERNAL_TOKEN_SECRET` of the services under test).
pub fn internal_secret() -> Secret {
    secret("internal")
}

/// A session id as demo-session under test issues it (tagged with the test session key).
pub fn session_id() -> bakery_config::demo::SessionId {
    use bakery_config::demo::{SessionId, SessionIdKey};
    SessionId::generate(&SessionIdKey::new(&secret("session")))
}

/// The `X-Bakery-Client` value the gateway under test would send for client `ip`.
pub fn client_assertion(ip: &str) -> String {
    use bakery_config::client::{ClientAddress, ClientAssertions};
    let ip: std::net::IpAddr = ip.parse().expect("a client address");
    ClientAssertions::new(&internal_secret())
        .sign(ClientAddress::new(ip), 300)
        .expect("sign a client assertion")
}

/// A bearer token a service under test accepts as the gateway's identity for `tenant_id`.
pub fn identity_token(tenant_id: uuid::Uuid, role: &str) -> String {
    identity_token_in(
        tenant_id,
        role,
        bakery_config::clock::BakeryTimeZone::default(),
    )
}

/// [`identity_token`] for a bakery in `time_zone`.
pub fn identity_token_in(
    tenant_id: uuid::Uuid,
    role: &str,
    time_zone: bakery_config::clock::BakeryTimeZone,
) -> String {
    use bakery_config::auth::{INTERNAL_AUDIENCE, Identity, TokenKeys};
    let identity =
        Identity::new(format!("user-{tenant_id}"), tenant_id, role, 300).in_time_zone(time_zone);
    TokenKeys::new(&internal_secret(), INTERNAL_AUDIENCE)
        .sign(&identity)
        .expect("sign identity")
}

/// Settings groups every service under test shares: port 0, test secrets, test Redis.
pub fn token_settings() -> bakery_config::settings::TokenSettings {
    bakery_config::settings::TokenSettings {
        internal_secret: internal_secret(),
        access_secret: secret("access"),
        session_secret: secret("session"),
        access_ttl: Duration::from_secs(3600),
    }
}

pub fn server_settings() -> bakery_config::settings::ServerSettings {
    bakery_config::settings::ServerSettings {
        host: "127.0.0.1".to_owned(),
        port: 0,
        shutdown_timeout_secs: 1,
    }
}

pub fn telemetry_settings() -> bakery_config::settings::TelemetrySettings {
    bakery_config::telemetry::init_for_tests();
    bakery_config::settings::TelemetrySettings {
        app_env: bakery_config::settings::AppEnv::Development,
        log_format: bakery_config::settings::LogFormat::Pretty,
        log_filter: "info".to_owned(),
    }
}

/// The groups of a service under test whose database is at `database_url`: port 0, a
/// pool of 4, test secrets, `redis`, and the other services where nothing listens
/// (`http://127.0.0.1:9`; a test that needs one sets its URL).
pub fn service_settings(
    database_url: &str,
    redis: RedisSettings,
) -> bakery_config::settings::ServiceSettings {
    let nowhere = "http://127.0.0.1:9".to_owned();
    bakery_config::settings::ServiceSettings {
        server: server_settings(),
        database: bakery_config::settings::DatabaseSettings {
            url: database_url.to_owned(),
            pool_size: 4,
            limits: bakery_config::settings::DatabaseLimits::default(),
        },
        redis,
        tokens: token_settings(),
        services: bakery_config::settings::ServiceUrls {
            demo_session: nowhere.clone(),
            tenant: nowhere.clone(),
            inventory: nowhere,
        },
        telemetry: telemetry_settings(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_swapped_in_urls() {
        assert_eq!(
            url_with_database("postgres://u@h:1/postgres", "x"),
            "postgres://u@h:1/x"
        );
        assert_eq!(
            url_with_database("postgres://u:p@h/postgres?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            url_with_database("postgres://u@h:1", "x"),
            "postgres://u@h:1/x"
        );
    }
}
