//! Ingredients (CRUD and the Redis cache), recipes with costs, orders with delivery
//! status, pagination.

use bakery_config::cache::Keys;
use bakery_config::settings::RedisSettings;
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn ingredients_can_be_created_read_replaced_and_deleted() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;

    let created = app
        .post(
            "/api/inventory/ingredients",
            t,
            json!({"name": "  Azúcar moreno ", "unit": "kg", "unit_cost": 1.35,
                   "reorder_point": 5, "reorder_quantity": 20, "allergens": [],
                   "supplier_id": SUPPLIER}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["name"], "Azúcar moreno");
    assert_eq!(created.body["category"], "otros");
    assert_eq!(num(&created.body["on_hand"]), 0.0);
    assert_eq!(created.body["low_stock"], json!(true));
    assert!(created.body.get("tenant_id").is_none());
    let id = created.body["id"].as_str().expect("id").to_owned();
    let path = format!("/api/inventory/ingredients/{id}");

    let dup = app
        .post(
            "/api/inventory/ingredients",
            t,
            json!({"name": "Azúcar moreno", "unit": "kg", "unit_cost": 1}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let replaced = app
        .request(
            Method::PUT,
            &path,
            t,
            Some(
                json!({"name": "Azúcar moreno de caña", "category": "endulzantes",
                        "unit": "kg", "unit_cost": 1.5}),
            ),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["category"], "endulzantes");
    assert_eq!(replaced.body["supplier_id"], json!(null));
    assert_eq!(num(&replaced.body["unit_cost"]), 1.5);
    assert_eq!(
        app.get(&path, t).await.body["name"],
        "Azúcar moreno de caña"
    );

    let unknown_supplier = app
        .request(
            Method::PUT,
            &path,
            t,
            Some(json!({"name": "x", "unit": "kg", "unit_cost": 1, "supplier_id": Uuid::new_v4()})),
        )
        .await;
    assert_eq!(unknown_supplier.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown_supplier.error(), "unknown_supplier");

    // harina is used by the recipe and an order: cannot go
    let in_use = app
        .request(
            Method::DELETE,
            &format!("/api/inventory/ingredients/{HARINA}"),
            t,
            None,
        )
        .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert_eq!(in_use.error(), "in_use");

    assert_eq!(
        app.request(Method::DELETE, &path, t, None).await.status,
        StatusCode::NO_CONTENT
    );
    let gone = app.get(&path, t).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.error(), "ingredient_not_found");
    assert_eq!(
        app.request(
            Method::PUT,
            &path,
            t,
            Some(json!({"name": "x", "unit": "kg", "unit_cost": 1}))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

async fn redis_keys(settings: &RedisSettings, pattern: &str) -> Vec<String> {
    let client = redis::Client::open(settings.url.as_str()).expect("redis client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut conn)
        .await
        .expect("KEYS")
}

#[tokio::test]
async fn the_ingredient_list_is_read_through_the_cache_and_invalidated_by_writes() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let keys = Keys::new(app.settings.common.redis.key_prefix.clone());
    let tenant_keys = format!("{}*", keys.tenant_prefix(&t));
    let version_key = format!("{}inventory:version", keys.tenant_prefix(&t));

    let first = app.get("/api/inventory/ingredients", t).await;
    assert_eq!(first.total(), 4);
    // pages are kept in the process, never in Redis (no counter before the first write)
    assert!(
        redis_keys(&app.settings.common.redis, &tenant_keys)
            .await
            .is_empty()
    );

    // a change behind the service's back is not seen while cached ...
    app.sql(&format!(
        "UPDATE ingredients SET unit_cost = 9.99 WHERE tenant_id = '{t}' AND id = '{SAL}'"
    ))
    .await;
    let cached = app.get("/api/inventory/ingredients", t).await;
    assert_eq!(cached.body, first.body);

    // ... and any write through the service bumps the tenant's version in Redis, which
    // every replica reads before its cache: the old pages are never served again
    let adj = app
        .post(
            "/api/inventory/adjustments",
            t,
            json!({"ingredient_id": HARINA, "quantity_delta": -1, "reason": "waste"}),
        )
        .await;
    assert_eq!(adj.status, StatusCode::CREATED);
    assert_eq!(
        redis_keys(&app.settings.common.redis, &tenant_keys).await,
        vec![version_key.clone()]
    );
    let fresh = app.get("/api/inventory/ingredients", t).await;
    let sal = fresh
        .items()
        .iter()
        .find(|i| i["id"] == json!(SAL))
        .expect("sal");
    assert_eq!(num(&sal["unit_cost"]), 9.99);
    let harina = fresh
        .items()
        .iter()
        .find(|i| i["id"] == json!(HARINA))
        .expect("harina");
    assert_eq!(num(&harina["on_hand"]), 69.0);
    assert_eq!(
        app.get("/api/inventory/ingredients", t).await.body,
        fresh.body
    );
    assert_eq!(
        redis_keys(&app.settings.common.redis, &tenant_keys).await,
        vec![version_key.clone()]
    );

    // a page loaded before a write and stored after it lands in a dead version
    use bakery_inventory::cache::{Cache, CachedList};
    use bakery_inventory::pagination::{LIMITS, Page};
    let cache = Cache::new(
        bakery_config::cache::build_pool(&app.settings.common.redis).expect("pool"),
        keys.clone(),
        60,
        1 << 20,
    );
    let page = Page::first(LIMITS);
    let before = cache.version(t).await;
    assert_eq!(before, Some(1));
    cache.invalidate(t).await;
    cache.put(t, CachedList::Products, 1, page, "\"stale\"".into());
    let now = cache.version(t).await.expect("redis answers");
    assert_eq!(now, 2);
    assert_eq!(cache.get(t, CachedList::Products, now, page), None);

    // removing a tenant's keys is one pattern
    let pool = bakery_config::cache::build_pool(&app.settings.common.redis).expect("pool");
    let removed = bakery_config::cache::delete_matching(&pool, &tenant_keys)
        .await
        .expect("delete");
    assert_eq!(removed, 1, "the version counter");
    assert!(
        redis_keys(&app.settings.common.redis, &tenant_keys)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn requests_still_work_when_redis_is_down() {
    let app = spawn_app_with(RedisSettings {
        url: "redis://127.0.0.1:1".to_owned(),
        ca_file: None,
        pool_size: 2,
        key_prefix: "test:down:".to_owned(),
    })
    .await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    // still ready: Redis is a cache, not a condition of serving
    let ready = app
        .client
        .get(format!("{}/ready", app.address))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::OK);
    let list = app.get("/api/inventory/ingredients", t).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.total(), 4);
    assert_eq!(app.get("/api/products", t).await.total(), 2);
    let sale = app
        .post(
            "/api/pos/sales",
            t,
            json!({"lines": [{"product_id": BARRA, "quantity": 1}], "payment_method": "cash"}),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.body);
    // a demo session's write counter lives in Redis too: without Redis the write is let
    // through (the row quota, counted by PostgreSQL, still bounds what it creates)
    let demo = app
        .demo_post(
            "/api/pos/sales",
            t,
            "demo_redis_down",
            json!({"lines": [{"product_id": BARRA, "quantity": 1}], "payment_method": "cash"}),
        )
        .await;
    assert_eq!(demo.status, StatusCode::CREATED, "{}", demo.body);
}

#[tokio::test]
async fn recipes_show_their_cost_per_unit() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let recipes = app.get("/api/recipes", t).await;
    let r = &recipes.items()[0];
    assert_eq!(r["product_name"], "Barra de pan");
    assert_eq!(r["lines"].as_array().map(Vec::len), Some(3));
    // 5 × 0.85 + 0.1 × 4.00 + 0.1 × 0.40 = 4.69 for 10 barras
    assert_eq!(num(&r["batch_cost"]), 4.69);
    assert_eq!(num(&r["cost_per_unit"]), 0.469);
    let harina = r["lines"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["ingredient_id"] == json!(HARINA)))
        .expect("harina line");
    assert_eq!(num(&harina["line_cost"]), 4.25);
}

#[tokio::test]
async fn a_recipe_can_be_edited_and_its_costs_follow() {
    let app = spawn_app().await;
    let (t, other) = (Uuid::new_v4(), Uuid::new_v4());
    app.seed(t).await;
    app.seed(other).await;
    let path = format!("/api/recipes/{RECIPE}");
    let lines_before = app.count(t, "recipe_lines").await;

    // more flour, no salt, butter added; 12 barras a batch
    let edited = app
        .request(
            Method::PUT,
            &path,
            t,
            Some(json!({"yield_quantity": 12, "prep_minutes": 95,
                        "lines": [{"ingredient_id": HARINA, "quantity": 6},
                                  {"ingredient_id": LEVADURA, "quantity": 0.1},
                                  {"ingredient_id": MANTEQUILLA, "quantity": 0.5}]})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(num(&edited.body["yield_quantity"]), 12.0);
    assert_eq!(edited.body["prep_minutes"], json!(95));
    let ingredients: Vec<&str> = edited.body["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["ingredient_name"].as_str())
        .collect();
    assert_eq!(ingredients.len(), 3, "{ingredients:?}");
    assert!(!ingredients.contains(&"Sal"), "{ingredients:?}");
    // read back: the list shows the new recipe, the harina line kept its row
    let listed = app.get("/api/recipes", t).await;
    let r = &listed.items()[0];
    assert_eq!(num(&r["yield_quantity"]), 12.0);
    assert_eq!(
        r["instructions"], edited.body["instructions"],
        "kept when absent"
    );
    assert_eq!(num(&r["batch_cost"]), num(&edited.body["batch_cost"]));
    assert_eq!(app.count(t, "recipe_lines").await, lines_before);
    let kept = app
        .count_where(
            t,
            "recipe_lines",
            "id = '00000000-0000-0000-0000-000000004101' AND quantity = 6",
        )
        .await;
    assert_eq!(kept, 1, "the harina line was updated in place");
    // the other tenant's recipe did not move
    let theirs = app.get("/api/recipes", other).await;
    assert_eq!(num(&theirs.items()[0]["yield_quantity"]), 10.0);
    assert_eq!(theirs.items()[0]["lines"].as_array().map(Vec::len), Some(3));

    // another tenant's recipe id is not found, and nothing changes
    let foreign = app
        .request(
            Method::PUT,
            &path,
            Uuid::new_v4(),
            Some(json!({"yield_quantity": 1, "lines": [{"ingredient_id": HARINA, "quantity": 1}]})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(foreign.error(), "recipe_not_found");
    assert_eq!(
        num(&app.get("/api/recipes", other).await.items()[0]["yield_quantity"]),
        10.0
    );

    // bad input: clear 422s, nothing written
    for (body, code) in [
        (
            json!({"yield_quantity": 0, "lines": [{"ingredient_id": HARINA, "quantity": 1}]}),
            "invalid_input",
        ),
        (json!({"yield_quantity": 5, "lines": []}), "invalid_input"),
        (
            json!({"yield_quantity": 5, "lines": [{"ingredient_id": HARINA, "quantity": 1},
                                              {"ingredient_id": HARINA, "quantity": 2}]}),
            "invalid_input",
        ),
        (
            json!({"yield_quantity": 5, "lines": [{"ingredient_id": HARINA, "quantity": -1}]}),
            "invalid_input",
        ),
        (
            json!({"yield_quantity": 5, "prep_minutes": -3, "lines": [{"ingredient_id": HARINA, "quantity": 1}]}),
            "invalid_input",
        ),
        (
            json!({"yield_quantity": 5, "lines": [{"ingredient_id": Uuid::new_v4(), "quantity": 1}]}),
            "unknown_ingredient",
        ),
    ] {
        let refused = app.request(Method::PUT, &path, t, Some(body.clone())).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            refused.body
        );
        assert_eq!(refused.error(), code, "{body}");
        assert!(
            refused.body["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let mine = app.get("/api/recipes", t).await;
    assert_eq!(num(&mine.items()[0]["yield_quantity"]), 12.0);
    assert_eq!(app.count(t, "recipe_lines").await, lines_before);

    // a viewer may only read
    let viewer = app
        .request_as(
            Method::PUT,
            &path,
            t,
            "viewer",
            Some(json!({"yield_quantity": 1, "lines": [{"ingredient_id": HARINA, "quantity": 1}]})),
        )
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    assert_eq!(viewer.error(), "read_only");
}

#[tokio::test]
async fn orders_show_their_delivery_status_and_can_be_placed() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;

    let orders = app.get("/api/orders", t).await;
    let status_of = |id: Uuid| {
        orders
            .items()
            .iter()
            .find(|o| o["id"] == json!(id))
            .map(|o| o["delivery_status"].clone())
    };
    assert_eq!(status_of(PO_LATE), Some(json!("late")));
    assert_eq!(status_of(PO_DONE), Some(json!("delivered")));
    assert_eq!(orders.items()[0]["supplier_name"], "Harinera La Meseta");

    let placed = app
        .post(
            "/api/orders",
            t,
            json!({"supplier_id": SUPPLIER, "notes": "Entregar por la mañana",
                   "lines": [{"ingredient_id": MANTEQUILLA, "quantity": 10},
                             {"product_id": CROISSANT, "quantity": 24, "unit_cost": 0.55}]}),
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["status"], "pending");
    assert_eq!(placed.body["source"], "manual");
    assert_eq!(placed.body["delivery_status"], "pending");
    assert_eq!(num(&placed.body["total"]), 88.2); // 10 × 7.50 + 24 × 0.55
    assert_eq!(
        placed.body["expected_at"],
        json!((today() + chrono::Duration::days(2)).to_string())
    );
    let pending = app.get("/api/orders?status=pending", t).await;
    assert_eq!(pending.total(), 2);

    let unknown = app
        .post(
            "/api/orders",
            t,
            json!({"supplier_id": Uuid::new_v4(), "lines": [{"ingredient_id": HARINA, "quantity": 1}]}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.error(), "unknown_supplier");
    let empty = app
        .post(
            "/api/orders",
            t,
            json!({"supplier_id": SUPPLIER, "lines": []}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn lists_are_paginated_with_a_maximum_page_size() {
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let page = app
        .get("/api/inventory/ingredients?limit=2&offset=1", t)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!((page.total(), page.items().len()), (4, 2));
    assert_eq!(page.body["limit"], 2);
    assert_eq!(page.body["offset"], 1);
    // names in order: Harina, Levadura, Mantequilla, Sal
    assert_eq!(page.items()[0]["name"], "Levadura fresca");
    let past_end = app.get("/api/sales?offset=10", t).await;
    assert_eq!((past_end.total(), past_end.items().len()), (4, 0));
    let default = app.get("/api/sales", t).await;
    assert_eq!(default.body["limit"], 50);
    for bad in ["limit=0", "limit=201", "offset=-1", "limit=lots"] {
        let a = app.get(&format!("/api/products?{bad}"), t).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(a.error(), "invalid_query", "{bad}");
    }
    let dated = app
        .get(
            &format!(
                "/api/sales?from={}&to={}",
                today() - chrono::Duration::days(13),
                today() - chrono::Duration::days(7)
            ),
            t,
        )
        .await;
    assert_eq!(dated.total(), 3, "{}", dated.body);
}

#[tokio::test]
async fn a_seasonal_product_says_when_it_sells_and_a_bad_season_is_refused() {
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};
    let app = spawn_app().await;
    let t = Uuid::new_v4();
    app.seed(t).await;
    let roscon = Uuid::new_v4();
    app.sql(&format!(
        "INSERT INTO products (tenant_id, id, name, kind, sale_price, shelf_life_days, season_from, season_to) \
         VALUES ('{t}', '{roscon}', 'Roscón de Reyes', 'finished', 18.50, 2, '12-20', '01-06')"
    ))
    .await;
    let list = app.get("/api/products", t).await;
    let by_name = |name: &str| {
        list.items()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(
        by_name("Roscón de Reyes")["season"],
        json!({"from": "12-20", "to": "01-06"})
    );
    assert_eq!(by_name("Barra de pan")["season"], json!(null), "all year");
    let one = app.get(&format!("/api/products/{roscon}"), t).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.body["season"]["to"], "01-06");

    // the table holds only days of the year, both ends or neither
    for (from, to) in [
        ("'02-30'", "'03-01'"),
        ("'12-1'", "'01-06'"),
        ("'12-20'", "NULL"),
    ] {
        let mut conn = app.connect().await;
        let refused = conn
            .transaction::<_, diesel::result::Error, _>(async |c| {
                bakery_config::db::allow_all_tenants(c).await?;
                c.batch_execute(&format!(
                    "INSERT INTO products (tenant_id, id, name, kind, sale_price, shelf_life_days, season_from, season_to) \
                     VALUES ('{t}', gen_random_uuid(), 'Mal', 'finished', 1, 1, {from}, {to})"
                ))
                .await
            })
            .await;
        assert!(refused.is_err(), "{from}..{to} was stored");
    }
}
