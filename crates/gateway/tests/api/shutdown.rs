//! Graceful shutdown of the real `gateway` binary, as Kubernetes stops a pod: on SIGTERM it
//! stops accepting connections, lets the request in flight finish, and exits cleanly.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use bakery_test_support as support;
use uuid::Uuid;

/// The gateway binary, killed if the test ends first.
struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_gateway(port: u16, demo: &Upstream, tenant: &Upstream, inventory: &Upstream) -> Gateway {
    let mut env = support::binary_env(&support::redis_settings());
    env.extend([
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", port.to_string()),
        ("SHUTDOWN_TIMEOUT_SECONDS", "10".to_owned()),
        ("DEMO_SESSION_URL", demo.url.clone()),
        ("TENANT_SERVICE_URL", tenant.url.clone()),
        ("INVENTORY_SERVICE_URL", inventory.url.clone()),
        ("LOG_LEVEL", "warn".to_owned()),
    ]);
    let child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env_clear()
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the gateway binary");
    Gateway(child)
}

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_then_exits() {
    let demo = spawn_upstream("demo-session");
    let tenant = spawn_upstream("tenant-service");
    let inventory = spawn_upstream("inventory-service");
    let port = closed_port();
    let mut gateway = start_gateway(port, &demo, &tenant, &inventory);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/health")).send().await
            && r.status() == 200
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(up, "the gateway did not start");

    // a customer request the upstream takes 3 s to answer
    let token = customer_token(Uuid::new_v4(), "owner", 300);
    let in_flight = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/api/products/slow");
        async move { client.get(url).bearer_auth(token).send().await }
    });
    let started = Instant::now();
    while inventory.hits() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never forwarded"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let pid = gateway.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());

    // no new connections once it is stopping …
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh = reqwest::Client::new()
        .get(format!("{base}/health"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        fresh.is_err(),
        "a new connection was accepted while stopping"
    );
    assert!(
        gateway.0.try_wait().expect("try_wait").is_none(),
        "exited with a request in flight"
    );

    // … the one in flight gets its whole answer …
    let answer = in_flight
        .await
        .expect("join")
        .expect("the request in flight completes");
    assert_eq!(answer.status(), 200);
    assert_eq!(echo(answer).await.path, "/api/products/slow");

    // … and then the process exits cleanly, well before the shutdown timeout
    let mut status = None;
    for _ in 0..200 {
        status = gateway.0.try_wait().expect("try_wait");
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let status = status.expect("the gateway exits after its last request");
    assert!(status.success(), "exit status {status}");
    assert!(started.elapsed() < Duration::from_secs(8));
}
