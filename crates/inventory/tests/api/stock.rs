//! Stock arithmetic of sales, production batches and adjustments: first-expiring lots
//! first, never below zero, and a failed operation changes nothing.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn a_pos_sale_takes_the_first_expiring_lots_and_a_failed_sale_changes_nothing() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;

    // lot B-B (5, expires today) goes before B-A (10, expires tomorrow)
    let sale = app
        .post(
            "/api/pos/sales",
            t,
            json!({"lines": [{"product_id": BARRA, "quantity": 7},
                             {"product_id": CROISSANT, "quantity": 0.0001, "unit_price": 9}],
                   "payment_method": "card"}),
        )
        .await;
    // 0.0001 rounds to 0: refused as a quantity, and nothing sold
    assert_eq!(
        sale.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        sale.body
    );
    assert_eq!(sale.error(), "invalid_input");

    let sale = app
        .post(
            "/api/pos/sales",
            t,
            json!({"lines": [{"product_id": BARRA, "quantity": 7},
                             {"product_id": BARRA, "quantity": 1, "unit_price": 1.00}],
                   "payment_method": "card"}),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.body);
    assert_eq!(num(&sale.body["sale"]["total"]), 9.4); // 7 × 1.20 + 1 × 1.00
    assert_eq!(sale.body["sale"]["lines"].as_array().map(Vec::len), Some(2));
    assert_eq!(sale.body["stock"][0]["product_id"], json!(BARRA));
    assert_eq!(num(&sale.body["stock"][0]["on_hand"]), 7.0);
    assert_eq!(app.lot_quantity(t, LOT_BB).await, 0.0);
    assert_eq!(app.lot_quantity(t, LOT_BA).await, 7.0);
    assert_eq!(app.count(t, "stock_movements").await, 2);

    // croissant has no stock: the whole sale fails, barra included
    let failed = app
        .post(
            "/api/pos/sales",
            t,
            json!({"lines": [{"product_id": BARRA, "quantity": 3},
                             {"product_id": CROISSANT, "quantity": 1}],
                   "payment_method": "cash"}),
        )
        .await;
    assert_eq!(
        failed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        failed.body
    );
    assert_eq!(failed.error(), "insufficient_stock");
    assert!(
        failed.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("Croissant")
    );
    assert_eq!(app.product_on_hand(t, BARRA).await, 7.0);
    assert_eq!(app.get("/api/sales", t).await.total(), 5);
    assert_eq!(app.count(t, "sale_lines").await, 7);
    assert_eq!(app.count(t, "stock_movements").await, 2);

    // exactly what is left can be sold; one more unit cannot
    let all = app
        .post(
            "/api/pos/sales",
            t,
            json!({"lines": [{"product_id": BARRA, "quantity": 7}], "payment_method": "bizum"}),
        )
        .await;
    assert_eq!(all.status, StatusCode::CREATED, "{}", all.body);
    assert_eq!(num(&all.body["stock"][0]["on_hand"]), 0.0);
    let more = app
        .post(
            "/api/pos/sales",
            t,
            json!({"lines": [{"product_id": BARRA, "quantity": 1}], "payment_method": "bizum"}),
        )
        .await;
    assert_eq!(more.error(), "insufficient_stock");
}

#[tokio::test]
async fn a_batch_consumes_its_recipe_first_expiring_first_or_nothing() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;

    // 20 barras = 2 × the recipe (yield 10): 10 kg harina, 0.2 levadura, 0.2 sal
    let batch = app
        .post(
            "/api/production/batches",
            t,
            json!({"recipe_id": RECIPE, "quantity": 20}),
        )
        .await;
    assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.body);
    assert_eq!(batch.body["status"], "completed");
    assert_eq!(num(&batch.body["product_on_hand"]), 35.0);
    // (10 × 0.85 + 0.2 × 4.00 + 0.2 × 0.40) / 20
    assert_eq!(num(&batch.body["unit_cost"]), 0.469);
    assert_eq!(app.lot_quantity(t, LOT_H2).await, 30.0, "H-2 expires first");
    assert_eq!(app.lot_quantity(t, LOT_H1).await, 30.0);
    assert_eq!(app.ingredient_on_hand(t, LEVADURA).await, 1.3);
    assert_eq!(app.ingredient_on_hand(t, SAL).await, 0.3);
    assert_eq!(app.product_on_hand(t, BARRA).await, 35.0);

    // 1000 barras need 500 kg of harina: refused, nothing moves
    let movements = app.count(t, "stock_movements").await;
    let too_big = app
        .post(
            "/api/production/batches",
            t,
            json!({"recipe_id": RECIPE, "quantity": 1000}),
        )
        .await;
    assert_eq!(
        too_big.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_big.body
    );
    assert_eq!(too_big.error(), "insufficient_stock");
    assert_eq!(app.ingredient_on_hand(t, HARINA).await, 60.0);
    assert_eq!(app.ingredient_on_hand(t, LEVADURA).await, 1.3);
    assert_eq!(app.product_on_hand(t, BARRA).await, 35.0);
    assert_eq!(app.get("/api/production/batches", t).await.total(), 1);
    assert_eq!(app.count(t, "stock_movements").await, movements);

    let unknown = app
        .post(
            "/api/production/batches",
            t,
            json!({"recipe_id": Uuid::new_v4(), "quantity": 1}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.error(), "unknown_recipe");
}

#[tokio::test]
async fn adjustments_move_stock_but_never_below_zero() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;

    // waste 35 kg: all 35 from H-2 (expires first)
    let waste = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"ingredient_id": HARINA, "quantity_delta": -35, "reason": "waste", "note": "humedad"}),
        )
        .await;
    assert_eq!(waste.status, StatusCode::CREATED, "{}", waste.body);
    assert_eq!(num(&waste.body["on_hand_before"]), 70.0);
    assert_eq!(num(&waste.body["on_hand"]), 35.0);
    assert_eq!(app.lot_quantity(t, LOT_H2).await, 5.0);
    assert_eq!(app.lot_quantity(t, LOT_H1).await, 30.0);

    // more than there is: refused
    let over = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"ingredient_id": HARINA, "quantity_delta": -35.001, "reason": "expired"}),
        )
        .await;
    assert_eq!(
        over.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        over.body
    );
    assert_eq!(over.error(), "insufficient_stock");
    assert_eq!(app.ingredient_on_hand(t, HARINA).await, 35.0);

    // a count correction can go up (a new lot) ...
    let up = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"ingredient_id": HARINA, "quantity_delta": 2.5, "reason": "count_correction"}),
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    assert_eq!(num(&up.body["on_hand"]), 37.5);
    // ... and down to exactly zero
    let zero = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"ingredient_id": HARINA, "quantity_delta": -37.5, "reason": "count_correction"}),
        )
        .await;
    assert_eq!(zero.status, StatusCode::CREATED, "{}", zero.body);
    assert_eq!(app.ingredient_on_hand(t, HARINA).await, 0.0);
    let listed = app.get("/api/inventory/ingredients", t).await;
    let harina = listed
        .items()
        .iter()
        .find(|i| i["id"] == json!(HARINA))
        .expect("harina listed");
    assert_eq!(harina["low_stock"], json!(true));

    // products too: a positive adjustment makes a lot that expires after the shelf life
    let found = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"product_id": CROISSANT, "quantity_delta": 4, "reason": "other"}),
        )
        .await;
    assert_eq!(found.status, StatusCode::CREATED, "{}", found.body);
    let lots = app
        .get(
            &format!("/api/inventory/stock-lots?product_id={CROISSANT}"),
            t,
        )
        .await;
    assert_eq!(lots.total(), 1);
    assert_eq!(
        lots.items()[0]["expires_at"],
        json!((today() + chrono::Duration::days(2)).to_string())
    );
    let expiring = app
        .get("/api/inventory/stock-lots?expiring_within_days=1", t)
        .await;
    // B-A (tomorrow) and B-B (today)
    assert_eq!(expiring.total(), 2, "{}", expiring.body);

    // waste cannot add stock; unknown items are named
    let bad = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"ingredient_id": HARINA, "quantity_delta": 1, "reason": "waste"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"ingredient_id": Uuid::new_v4(), "quantity_delta": -1, "reason": "waste"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.error(), "unknown_ingredient");
}

#[tokio::test]
async fn concurrent_sales_never_sell_more_than_there_is() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    // 15 barras on hand; five tills sell 4 each at once: three can, two cannot
    let sell = || {
        app.post(
            "/api/pos/sales",
            t,
            json!({"lines": [{"product_id": BARRA, "quantity": 4}], "payment_method": "cash"}),
        )
    };
    let answers = tokio::join!(sell(), sell(), sell(), sell(), sell());
    let answers = [answers.0, answers.1, answers.2, answers.3, answers.4];
    let sold = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let refused = answers
        .iter()
        .filter(|a| {
            a.status == StatusCode::UNPROCESSABLE_ENTITY && a.error() == "insufficient_stock"
        })
        .count();
    assert_eq!((sold, refused), (3, 2));
    assert_eq!(app.product_on_hand(t, BARRA).await, 3.0);
    assert_eq!(app.get("/api/sales", t).await.total(), 4 + 3);
}
