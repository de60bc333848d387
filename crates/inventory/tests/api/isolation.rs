//! Two tenants holding identical data (same ids, as a clone has) see only their own rows
//! on every endpoint, and the writes of one are invisible to the other.

use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn tenants_with_identical_data_see_only_their_own_rows() {
    let app = spawn_app().await;
    let (a, b, empty) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    app.seed(a).await;
    app.seed(b).await;

    for (path, seeded) in SEEDED {
        for tenant in [a, b] {
            let page = app.get(path, tenant).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            assert_eq!(page.total(), seeded, "{path} for one tenant");
            assert_eq!(
                page.items().len(),
                usize::try_from(seeded).expect("a count"),
                "{path} items"
            );
        }
        let none = app.get(path, empty).await;
        assert_eq!(none.status, StatusCode::OK, "{path}");
        assert_eq!(
            none.total(),
            0,
            "{path}: a tenant without data sees nothing"
        );
    }
    for path in [
        format!("/api/inventory/ingredients/{HARINA}"),
        format!("/api/products/{BARRA}"),
        format!("/api/forecasts/{BARRA}"),
    ] {
        assert_eq!(app.get(&path, a).await.status, StatusCode::OK, "{path}");
        assert_eq!(
            app.get(&path, empty).await.status,
            StatusCode::NOT_FOUND,
            "{path} of another tenant"
        );
    }
}

#[tokio::test]
async fn writes_of_one_tenant_are_invisible_to_the_other() {
    let app = spawn_app().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    app.seed(a).await;
    app.seed(b).await;
    // warm b's cache, so a stale cross-tenant cache would show too
    assert_eq!(app.get("/api/inventory/ingredients", b).await.total(), 4);

    let created = app
        .post(
            "/api/inventory/ingredients",
            a,
            json!({"name": "Azúcar", "unit": "kg", "unit_cost": 1.1, "reorder_point": 5}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let sugar = created.body["id"].as_str().expect("id").to_owned();
    let sale = app
        .post(
            "/api/pos/sales",
            a,
            json!({"lines": [{"product_id": BARRA, "quantity": 2}], "payment_method": "cash"}),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.body);
    let batch = app
        .post(
            "/api/production/batches",
            a,
            json!({"recipe_id": RECIPE, "quantity": 10}),
        )
        .await;
    assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.body);
    let adj = app
        .post(
            "/api/inventory/adjustments",
            a,
            json!({"ingredient_id": HARINA, "quantity_delta": -1, "reason": "waste"}),
        )
        .await;
    assert_eq!(adj.status, StatusCode::CREATED, "{}", adj.body);
    let order = app
        .post(
            "/api/orders",
            a,
            json!({"supplier_id": SUPPLIER, "lines": [{"ingredient_id": MANTEQUILLA, "quantity": 10}]}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    // tenant b deletes its own copy of an ingredient with a shared id
    let del = app
        .request(
            Method::DELETE,
            &format!("/api/inventory/ingredients/{MANTEQUILLA}"),
            b,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{}", del.body);

    // b: unchanged except its own delete
    assert_eq!(app.get("/api/inventory/ingredients", b).await.total(), 3);
    assert_eq!(app.get("/api/sales", b).await.total(), 4);
    assert_eq!(app.get("/api/production/batches", b).await.total(), 0);
    assert_eq!(app.get("/api/orders", b).await.total(), 2);
    assert_eq!(app.ingredient_on_hand(b, HARINA).await, 70.0);
    assert_eq!(app.product_on_hand(b, BARRA).await, 15.0);
    for method in [Method::GET, Method::DELETE] {
        let a_only = app
            .request(
                method.clone(),
                &format!("/api/inventory/ingredients/{sugar}"),
                b,
                None,
            )
            .await;
        assert_eq!(a_only.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(a_only.error(), "ingredient_not_found");
    }
    // nor can b replace a's ingredient (an id only a has)
    let put = app
        .request(
            Method::PUT,
            &format!("/api/inventory/ingredients/{sugar}"),
            b,
            Some(json!({"name": "Azúcar de b", "unit": "kg", "unit_cost": 9.9})),
        )
        .await;
    assert_eq!(put.status, StatusCode::NOT_FOUND, "{}", put.body);
    assert_eq!(put.error(), "ingredient_not_found");
    let sugar_of_a = app
        .get(&format!("/api/inventory/ingredients/{sugar}"), a)
        .await;
    assert_eq!(sugar_of_a.body["name"], "Azúcar");

    // a: its writes, and its mantequilla still there
    assert_eq!(app.get("/api/inventory/ingredients", a).await.total(), 5);
    assert_eq!(app.get("/api/sales", a).await.total(), 5);
    assert_eq!(app.get("/api/production/batches", a).await.total(), 1);
    assert_eq!(app.get("/api/orders", a).await.total(), 3);
    assert_eq!(app.ingredient_on_hand(a, MANTEQUILLA).await, 0.0);
    assert_eq!(app.ingredient_on_hand(a, HARINA).await, 64.0); // 70 - 5 (batch) - 1
    assert_eq!(app.product_on_hand(a, BARRA).await, 23.0); // 15 - 2 + 10
}
