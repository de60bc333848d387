//! `GET /metrics` on the service port: login outcomes and the HTTP histogram move.

use bakery_test_support::metrics::Scrape;
use reqwest::StatusCode;

use crate::helpers::spawn_app_with;

const LOGINS: &str = "bakery_login_attempts_total";

#[tokio::test]
async fn login_outcomes_are_counted() {
    let app = spawn_app_with(|s| s.login.max_failures_per_ip = 2).await;
    let url = app.url("/metrics");
    let before = Scrape::get(&app.http, &url).await;

    let ok = app
        .login(app.ana.email, app.ana.password, "203.0.113.10")
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let wrong = app
        .login(app.ana.email, "no-es-la-clave", "203.0.113.11")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let unknown = app
        .login("nadie@ninguna.es", "no-es-la-clave", "203.0.113.11")
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    // the client used up its failures: refused before anything is checked
    let locked = app
        .login(app.ana.email, app.ana.password, "203.0.113.11")
        .await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);

    let after = Scrape::get(&app.http, &url).await;
    for outcome in ["ok", "wrong_password", "unknown_email", "locked"] {
        let moved = after.value(LOGINS, &[("outcome", outcome)])
            - before.value(LOGINS, &[("outcome", outcome)]);
        assert_eq!(moved, 1.0, "{outcome}:\n{}", after.text);
    }
    let logins = |s: &Scrape| {
        s.sum(
            "http_server_request_duration_seconds_count",
            &[
                ("http_route", "/api/auth/login"),
                ("http_request_method", "POST"),
            ],
        )
    };
    assert_eq!(logins(&after) - logins(&before), 4.0);
    // no address, client or user in any label
    for raw in [app.ana.email, "nadie@ninguna.es", "203.0.113.11"] {
        assert!(!after.text.contains(raw), "{raw} exposed");
    }
}
