//! Redis really stopped and started again, on a private `redis-server` this test owns:
//! active demo sessions keep working through demo-session while Redis is down, and the
//! invalidation subscriber reconnects once it is back.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::*;
use bakery_config::demo::SessionStatus;
use bakery_config::settings::RedisSettings;

/// A private Redis on `port`, stopped when dropped.
struct PrivateRedis(Child);

impl PrivateRedis {
    async fn start(port: u16) -> Self {
        let redis = PrivateRedis(
            Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server (scripts/test.sh installs it)"),
        );
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server did not start on {port}");
    }

    fn stop(self) {
        drop(self);
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Long enough that only an invalidation message can drop a cached copy in the checks
/// below, short enough to wait out once.
const CACHE_TTL: Duration = Duration::from_secs(3);

#[tokio::test]
async fn sessions_survive_a_redis_restart_and_invalidations_resume() {
    let port = closed_port();
    let redis = PrivateRedis::start(port).await;
    let settings = RedisSettings {
        url: format!("redis://127.0.0.1:{port}"),
        ca_file: None,
        pool_size: 4,
        key_prefix: "gateway-test:".to_owned(),
    };
    let app = spawn_app_with(Options {
        redis: Some(settings),
        cache_ttl: CACHE_TTL,
        ..Default::default()
    })
    .await;
    app.wait_for_subscriber().await;
    let mut s = app.ready_session().await;
    // demo-session knows it too (the truth)
    app.demo
        .state
        .sessions
        .lock()
        .unwrap()
        .insert(s.id.to_string(), s.cached.clone());
    let get = || {
        app.client
            .get(app.url("/api/products"))
            .header(DEMO_HEADER, s.id.as_str())
            .send()
    };
    assert_eq!(get().await.unwrap().status(), 200);

    // Redis stops: past the in-process cache, the session is served by demo-session
    redis.stop();
    tokio::time::sleep(CACHE_TTL + Duration::from_millis(200)).await;
    for _ in 0..3 {
        let r = get().await.unwrap();
        assert_eq!(
            echo(r).await.identity.expect("identity").tenant_id,
            s.tenant
        );
    }
    assert!(
        app.demo
            .state
            .session_lookups
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1
    );

    // Redis is back (empty): the subscriber reconnects, invalidations work again
    let _redis = PrivateRedis::start(port).await;
    app.wait_for_subscriber().await;
    s.cached.status = SessionStatus::Ready;
    app.store_session(&s.cached).await;
    // cached in-process from now on, for CACHE_TTL
    assert_eq!(get().await.unwrap().status(), 200);
    let cached_at = std::time::Instant::now();
    s.cached.status = SessionStatus::Destroyed;
    app.store_session(&s.cached).await;
    app.demo
        .state
        .sessions
        .lock()
        .unwrap()
        .remove(s.id.as_str());
    app.publish_invalidation(s.id.as_str()).await;
    let mut refused = false;
    while cached_at.elapsed() < CACHE_TTL.saturating_sub(Duration::from_millis(500)) {
        if get().await.unwrap().status() == 401 {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        refused,
        "the ended session was served from the in-process cache after Redis came back: \
         the invalidation message did not drop it"
    );
}
