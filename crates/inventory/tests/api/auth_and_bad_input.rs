//! The tenant comes only from a verified identity; bad input gets the JSON envelope,
//! never a 500.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn a_forged_tenant_header_without_a_valid_bearer_gets_401() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let url = format!("{}/api/inventory/ingredients", app.address);

    let forged = app
        .client
        .get(&url)
        .header("X-Tenant-Id", t.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let body: Value = forged.json().await.expect("json");
    assert_eq!(body["error"], "missing_credentials");
    assert!(body["message"].is_string());

    // a token signed with another key, and garbage
    let other_key = bakery_config::auth::TokenKeys::new(
        &bakery_test_support::secret("not-the-internal-one"),
        bakery_config::auth::INTERNAL_AUDIENCE,
    )
    .sign(&bakery_config::auth::Identity::new("x", t, "owner", 60))
    .expect("sign");
    for token in [other_key.as_str(), "garbage"] {
        let res = app
            .client
            .post(format!("{}/api/pos/sales", app.address))
            .header("X-Tenant-Id", t.to_string())
            .bearer_auth(token)
            .json(
                &json!({"lines": [{"product_id": BARRA, "quantity": 1}], "payment_method": "cash"}),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "invalid_credentials");
    }
    assert_eq!(app.product_on_hand(t, BARRA).await, 15.0);

    // a viewer may read, not write
    let viewer = app
        .request_as(
            Method::POST,
            "/api/inventory/adjustments",
            t,
            "viewer",
            Some(json!({"ingredient_id": HARINA, "quantity_delta": -1, "reason": "waste"})),
        )
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    assert_eq!(viewer.error(), "read_only");
}

#[tokio::test]
async fn bad_input_gets_400_404_or_422_with_the_envelope() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let token = bakery_test_support::identity_token(t, "owner");

    // malformed JSON
    let raw = app
        .client
        .post(format!("{}/api/pos/sales", app.address))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{\"lines\": [")
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let body: Value = raw.json().await.expect("json");
    assert_eq!(body["error"], "malformed_json");

    let unknown_product = format!("/api/products/{}", Uuid::new_v4());
    let unknown_ingredient = format!("/api/inventory/ingredients/{}", Uuid::new_v4());
    let cases: Vec<(Method, &str, Value, StatusCode, &str)> = vec![
        // wrong types and shapes
        (
            Method::POST,
            "/api/pos/sales",
            json!({"lines": [{"product_id": BARRA, "quantity": "dos"}], "payment_method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/pos/sales",
            json!({"lines": [{"product_id": BARRA, "quantity": 1}], "payment_method": "cheque"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/pos/sales",
            json!({"lines": [{"product_id": "no-es-un-id", "quantity": 1}], "payment_method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/inventory/ingredients",
            json!({"name": "Harina integral", "unit": "saco", "unit_cost": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        // negative and zero quantities, empty sales
        (
            Method::POST,
            "/api/pos/sales",
            json!({"lines": [{"product_id": BARRA, "quantity": -2}], "payment_method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/pos/sales",
            json!({"lines": [], "payment_method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/pos/sales",
            json!({"lines": [{"product_id": BARRA, "quantity": 1, "unit_price": -1}], "payment_method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/production/batches",
            json!({"recipe_id": RECIPE, "quantity": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/production/batches",
            json!({"recipe_id": RECIPE, "quantity": 1e30}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/production/batches",
            json!({"recipe_id": RECIPE, "quantity": 2_000_000}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/inventory/ingredients",
            json!({"name": "Harina integral", "unit": "kg", "unit_cost": -0.5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/inventory/ingredients",
            json!({"name": "   ", "unit": "kg", "unit_cost": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/inventory/adjustments",
            json!({"ingredient_id": HARINA, "product_id": BARRA, "quantity_delta": 1, "reason": "other"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/inventory/adjustments",
            json!({"quantity_delta": 1, "reason": "other"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/inventory/adjustments",
            json!({"ingredient_id": HARINA, "quantity_delta": 1, "reason": "robo"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/orders",
            json!({"supplier_id": SUPPLIER, "lines": [{"ingredient_id": HARINA, "quantity": -5}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        // amounts too large to record
        (
            Method::POST,
            "/api/orders",
            json!({"supplier_id": SUPPLIER, "lines": [{"ingredient_id": HARINA, "quantity": 1_000_000, "unit_cost": 999_999}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        (
            Method::POST,
            "/api/pos/sales",
            json!({"lines": [{"product_id": BARRA, "quantity": 1_000_000, "unit_price": 99_999}], "payment_method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
        ),
        // unknown ids
        (
            Method::POST,
            "/api/pos/sales",
            json!({"lines": [{"product_id": Uuid::new_v4(), "quantity": 1}], "payment_method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_product",
        ),
        (
            Method::POST,
            "/api/orders",
            json!({"supplier_id": SUPPLIER, "lines": [{"ingredient_id": Uuid::new_v4(), "quantity": 5}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_ingredient",
        ),
        (
            Method::GET,
            "/api/inventory/ingredients/not-a-uuid",
            Value::Null,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            &unknown_product,
            Value::Null,
            StatusCode::NOT_FOUND,
            "product_not_found",
        ),
        (
            Method::DELETE,
            &unknown_ingredient,
            Value::Null,
            StatusCode::NOT_FOUND,
            "ingredient_not_found",
        ),
        (
            Method::GET,
            "/api/nada",
            Value::Null,
            StatusCode::NOT_FOUND,
            "route_not_found",
        ),
        (
            Method::PATCH,
            "/api/inventory/ingredients",
            Value::Null,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        // bad queries
        (
            Method::GET,
            "/api/inventory/stock-lots?expiring_within_days=-1",
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            Method::GET,
            "/api/inventory/stock-lots?ingredient_id=harina",
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            Method::GET,
            "/api/sales?from=ayer",
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            Method::GET,
            "/api/sales?from=2026-02-01&to=2026-01-01",
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        // dates chrono reads but PostgreSQL cannot store (or `to + 1 day` overflows)
        (
            Method::GET,
            "/api/sales?to=%2B262142-12-31",
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            Method::GET,
            "/api/sales?from=-262143-01-01",
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            Method::GET,
            "/api/orders?status=perdido",
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let body_text = body.to_string();
        let body = (!body.is_null()).then_some(body);
        let a = app.request(method.clone(), path, t, body).await;
        assert_eq!(a.status, status, "{method} {path} {body_text}: {}", a.body);
        assert_eq!(a.error(), code, "{method} {path} {body_text}");
        assert!(a.body["message"].is_string());
    }

    // not JSON at all
    let text = app
        .client
        .post(format!("{}/api/orders", app.address))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body("hola")
        .send()
        .await
        .expect("request");
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // nothing moved through all that
    assert_eq!(app.product_on_hand(t, BARRA).await, 15.0);
    assert_eq!(app.ingredient_on_hand(t, HARINA).await, 70.0);
    assert_eq!(app.get("/api/sales", t).await.total(), 4);
}
