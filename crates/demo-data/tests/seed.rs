//! The seed jobs against real PostgreSQL (a private database per test): what the demo
//! promises is there, every reference stays inside its tenant, re-seeding changes nothing,
//! recipes cost out, the till's tickets have their shape (90 days and today's whole day,
//! on the bakery's clock), the demo users log in, and a seed that fails half-way leaves
//! nothing behind.
#![allow(
    clippy::expect_used,
    reason = "a test fails loudly on what it cannot set up"
)]
#![allow(
    clippy::print_stderr,
    reason = "the seed's time and the templates' sizes are figures to read in the output"
)]

use bakery_config::demo::AccountType;
use bakery_demo_data::seed::{self, Outcome};
use bakery_demo_data::{accounts, bakery_today, seed_inventory, seed_tenants, seed_users};
use bakery_test_support::{MigrationSet, TestDatabase};
use chrono::{Duration, NaiveDate, Utc};
use diesel::sql_types::{BigInt, Bool, Date, Double, Nullable, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

const TENANT: MigrationSet = MigrationSet {
    name: "tenant",
    migrations: || bakery_tenant::MIGRATIONS,
};

const INVENTORY: MigrationSet = MigrationSet {
    name: "inventory",
    migrations: || bakery_inventory::MIGRATIONS,
};

const SAN_PABLO: Uuid = Uuid::from_u128(0x00000000_0000_4000_a000_000000000001);
const LA_ESPIGA: Uuid = Uuid::from_u128(0x00000000_0000_4000_a000_000000000002);

/// The templates' today: Madrid's calendar day.
fn today() -> NaiveDate {
    bakery_today(Utc::now())
}

/// A connection that sees every tenant (as the seed and cleanup jobs do), for checking.
async fn connect(db: &TestDatabase) -> AsyncPgConnection {
    let mut conn = AsyncPgConnection::establish(&db.url)
        .await
        .expect("connect");
    sql_query("SET app.all_tenants = 'on'")
        .execute(&mut conn)
        .await
        .expect("see every tenant");
    conn
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs a counting query; `$1` is the tenant, `$2` today.
async fn count(conn: &mut AsyncPgConnection, tenant: Uuid, sql: &str) -> i64 {
    sql_query(sql)
        .bind::<SqlUuid, _>(tenant)
        .bind::<Date, _>(today())
        .get_result::<Count>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

const TABLES: &[&str] = &bakery_inventory::schema::TABLES_IN_FK_ORDER;

async fn rows_of(conn: &mut AsyncPgConnection, tenant: Uuid) -> i64 {
    let mut total = 0;
    for table in TABLES {
        total += count(
            conn,
            tenant,
            &format!("SELECT count(*) AS n FROM {table} WHERE tenant_id = $1 AND $2 IS NOT NULL"),
        )
        .await;
    }
    total
}

fn written(report: &[(AccountType, Outcome)], t: AccountType) -> bool {
    report
        .iter()
        .any(|(a, o)| *a == t && matches!(o, Outcome::Written { .. }))
}

async fn seeded_inventory() -> (TestDatabase, AsyncPgConnection) {
    let db = TestDatabase::migrated(INVENTORY).await;
    let mut conn = connect(&db).await;
    let started = std::time::Instant::now();
    let report = seed_inventory(&mut conn, today())
        .await
        .expect("seed inventory");
    // a few seconds (generation, the check against what is there, the inserts), whatever
    // the machine: only an absurd time fails
    eprintln!("seed_inventory of both templates: {:?}", started.elapsed());
    assert!(started.elapsed().as_secs() < 120, "{:?}", started.elapsed());
    assert!(written(&report, AccountType::IndividualBakery));
    assert!(written(&report, AccountType::CentralBakerSatellite));
    (db, conn)
}

#[tokio::test]
async fn san_pablo_has_what_the_demo_promises() {
    let (_db, mut c) = seeded_inventory().await;
    let t = SAN_PABLO;
    let n = async |c: &mut AsyncPgConnection, sql: &str| count(c, t, sql).await;

    assert!(
        n(
            &mut c,
            "SELECT count(*) AS n FROM ingredients WHERE tenant_id = $1 AND $2 IS NOT NULL"
        )
        .await
            >= 25
    );
    for name in [
        "Harina de trigo T55",
        "Harina de trigo T65",
        "Harina integral de trigo",
        "Masa madre natural",
        "Levadura fresca de panadería",
        "Mantequilla de hojaldre 82% MG",
        "Sal marina fina",
        "Azúcar blanco",
        "Huevos camperos (L)",
        "Leche entera fresca",
        "Aceite de oliva virgen extra",
    ] {
        let sql = format!(
            "SELECT count(*) AS n FROM ingredients WHERE tenant_id = $1 AND $2 IS NOT NULL \
             AND name = '{name}' AND unit_cost > 0"
        );
        assert_eq!(n(&mut c, &sql).await, 1, "{name}");
    }
    // suppliers for everything bought (only the sourdough starter is made in the shop)
    assert!(
        n(
            &mut c,
            "SELECT count(*) AS n FROM suppliers WHERE tenant_id = $1 AND $2 IS NOT NULL"
        )
        .await
            >= 5
    );
    assert_eq!(n(&mut c, "SELECT count(*) AS n FROM ingredients WHERE tenant_id = $1 AND $2 IS NOT NULL AND supplier_id IS NULL").await, 1);
    assert!(n(&mut c, "SELECT count(*) AS n FROM ingredients WHERE tenant_id = $1 AND $2 IS NOT NULL AND 'gluten' = ANY (allergens)").await >= 5);
    assert!(n(&mut c, "SELECT count(*) AS n FROM ingredients WHERE tenant_id = $1 AND $2 IS NOT NULL AND 'lácteos' = ANY (allergens)").await >= 3);
    assert_eq!(n(&mut c, "SELECT count(DISTINCT unit) AS n FROM ingredients WHERE tenant_id = $1 AND $2 IS NOT NULL").await, 3, "kg, l and unidad");
    assert!(n(&mut c, "SELECT count(*) AS n FROM ingredients WHERE tenant_id = $1 AND $2 IS NOT NULL AND reorder_point > 0").await >= 25);

    // at least 5 finished products, each with a recipe of several lines
    assert!(n(&mut c, "SELECT count(*) AS n FROM products WHERE tenant_id = $1 AND $2 IS NOT NULL AND kind = 'finished'").await >= 5);
    assert_eq!(
        n(&mut c, "SELECT count(*) AS n FROM products p WHERE tenant_id = $1 AND $2 IS NOT NULL AND kind = 'finished' \
                   AND (SELECT count(*) FROM recipe_lines l JOIN recipes r ON r.tenant_id = l.tenant_id AND r.id = l.recipe_id \
                        WHERE r.tenant_id = p.tenant_id AND r.product_id = p.id) < 3").await,
        0,
        "every finished product has a recipe"
    );

    // several lots per ingredient, with different expiry dates
    assert_eq!(
        n(
            &mut c,
            "SELECT count(*) AS n FROM ingredients i WHERE tenant_id = $1 AND $2 IS NOT NULL \
                   AND (SELECT count(DISTINCT expires_at) FROM stock_lots l \
                        WHERE l.tenant_id = i.tenant_id AND l.ingredient_id = i.id) < 2"
        )
        .await,
        0
    );
    // something for the dashboard to say: lots about to expire, ingredients low on stock
    assert!(
        n(
            &mut c,
            "SELECT count(*) AS n FROM stock_lots WHERE tenant_id = $1 AND quantity > 0 \
                       AND expires_at BETWEEN $2 AND $2 + 3"
        )
        .await
            >= 3
    );
    assert!(n(&mut c, "SELECT count(*) AS n FROM ingredients i WHERE tenant_id = $1 AND $2 IS NOT NULL AND reorder_point > \
                       (SELECT coalesce(sum(quantity), 0) FROM stock_lots l \
                        WHERE l.tenant_id = i.tenant_id AND l.ingredient_id = i.id AND l.expires_at >= $2)").await >= 3);
    // each lot's movements explain its quantity
    assert_eq!(
        n(&mut c, "SELECT count(*) AS n FROM stock_lots l WHERE tenant_id = $1 AND $2 IS NOT NULL AND quantity <> \
                   (SELECT sum(quantity_delta) FROM stock_movements m WHERE m.tenant_id = l.tenant_id AND m.lot_id = l.id)").await,
        0
    );

    // production: the last two weeks and this morning's bake done (Madrid days), tomorrow's
    // planned
    assert!(n(&mut c, "SELECT count(*) AS n FROM production_batches WHERE tenant_id = $1 AND status = 'completed' \
                       AND (produced_at AT TIME ZONE 'Europe/Madrid')::date BETWEEN $2 - 14 AND $2 - 1").await >= 50);
    assert!(n(&mut c, "SELECT count(*) AS n FROM production_batches WHERE tenant_id = $1 AND status = 'completed' \
                       AND (produced_at AT TIME ZONE 'Europe/Madrid')::date = $2 \
                       AND (produced_at AT TIME ZONE 'Europe/Madrid')::time = '04:30'").await >= 5);
    assert!(n(&mut c, "SELECT count(*) AS n FROM production_batches WHERE tenant_id = $1 AND status = 'planned' \
                       AND (produced_at AT TIME ZONE 'Europe/Madrid')::date = $2 + 1").await >= 5);
    assert_eq!(n(&mut c, "SELECT count(*) AS n FROM production_batches WHERE tenant_id = $1 AND status = 'planned' \
                          AND (produced_at AT TIME ZONE 'Europe/Madrid')::date <> $2 + 1").await, 0);
    assert_fake_models(&mut c, t).await;
}

async fn assert_fake_models(c: &mut AsyncPgConnection, t: Uuid) {
    let products = count(
        c,
        t,
        "SELECT count(*) AS n FROM products WHERE tenant_id = $1 AND $2 IS NOT NULL",
    )
    .await;
    let fake = count(
        c,
        t,
        "SELECT count(*) AS n FROM forecast_models WHERE tenant_id = $1 AND $2 IS NOT NULL \
         AND is_fake AND model_uri IS NULL AND status = 'trained' AND metrics ? 'mape'",
    )
    .await;
    assert_eq!(fake, products, "one fake trained model per product");
    let real = count(c, t, "SELECT count(*) AS n FROM forecast_models WHERE tenant_id = $1 AND $2 IS NOT NULL AND NOT is_fake").await;
    assert_eq!(real, 0);
}

#[tokio::test]
async fn la_espiga_has_what_the_demo_promises() {
    let (_db, mut c) = seeded_inventory().await;
    let t = LA_ESPIGA;
    let n = async |c: &mut AsyncPgConnection, sql: &str| count(c, t, sql).await;

    // par-baked products, all from the central baker, bought below their price
    assert!(n(&mut c, "SELECT count(*) AS n FROM products p JOIN suppliers s ON s.tenant_id = p.tenant_id AND s.id = p.supplier_id \
                       WHERE p.tenant_id = $1 AND $2 IS NOT NULL AND p.kind = 'par_baked' AND s.kind = 'central_baker' \
                       AND p.purchase_cost > 0 AND p.purchase_cost < p.sale_price").await >= 15);
    assert_eq!(n(&mut c, "SELECT count(*) AS n FROM products WHERE tenant_id = $1 AND $2 IS NOT NULL AND kind = 'par_baked' AND supplier_id IS NULL").await, 0);
    assert!(n(&mut c, "SELECT count(*) AS n FROM products WHERE tenant_id = $1 AND $2 IS NOT NULL AND kind = 'finished'").await >= 10);
    // the central baker and others
    assert_eq!(n(&mut c, "SELECT count(*) AS n FROM suppliers WHERE tenant_id = $1 AND $2 IS NOT NULL AND kind = 'central_baker'").await, 1);
    assert!(n(&mut c, "SELECT count(*) AS n FROM suppliers WHERE tenant_id = $1 AND $2 IS NOT NULL AND kind <> 'central_baker'").await >= 3);

    // orders with delivery tracking in every state
    for (what, sql) in [
        (
            "pending",
            "SELECT count(*) AS n FROM purchase_orders o JOIN deliveries d ON d.tenant_id = o.tenant_id AND d.order_id = o.id \
                     WHERE o.tenant_id = $1 AND o.status = 'pending' AND d.status = 'scheduled' AND o.expected_at >= $2",
        ),
        (
            "in transit",
            "SELECT count(*) AS n FROM purchase_orders o JOIN deliveries d ON d.tenant_id = o.tenant_id AND d.order_id = o.id \
                        WHERE o.tenant_id = $1 AND o.status = 'in_transit' AND d.status = 'in_transit' AND o.expected_at >= $2",
        ),
        (
            "late",
            "SELECT count(*) AS n FROM purchase_orders o JOIN deliveries d ON d.tenant_id = o.tenant_id AND d.order_id = o.id \
                  WHERE o.tenant_id = $1 AND o.status IN ('pending', 'in_transit') AND d.delivered_at IS NULL AND o.expected_at < $2",
        ),
        (
            "delivered",
            "SELECT count(*) AS n FROM purchase_orders o JOIN deliveries d ON d.tenant_id = o.tenant_id AND d.order_id = o.id \
                       WHERE o.tenant_id = $1 AND $2 IS NOT NULL AND o.status = 'delivered' AND d.status = 'delivered' \
                       AND o.delivered_at IS NOT NULL AND d.delivered_at IS NOT NULL",
        ),
    ] {
        assert!(n(&mut c, sql).await >= 1, "an order {what}");
    }
    // the daily order to the central baker: every par-baked product, every day
    assert!(n(&mut c, "SELECT count(DISTINCT o.expected_at) AS n FROM purchase_orders o JOIN suppliers s ON s.tenant_id = o.tenant_id AND s.id = o.supplier_id \
                       WHERE o.tenant_id = $1 AND s.kind = 'central_baker' AND o.expected_at BETWEEN $2 - 10 AND $2").await >= 11);
    // totals add up
    assert_eq!(
        n(&mut c, "SELECT count(*) AS n FROM purchase_orders o WHERE tenant_id = $1 AND $2 IS NOT NULL AND total <> \
                   (SELECT sum(round(quantity * unit_cost, 2)) FROM purchase_order_lines l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id)").await,
        0
    );
    assert!(n(&mut c, "SELECT count(*) AS n FROM stock_lots WHERE tenant_id = $1 AND $2 IS NOT NULL AND product_id IS NOT NULL").await >= 30);
    assert_fake_models(&mut c, t).await;
}

/// Everything but the till's tickets is copied per session, so it stays small; the
/// tickets (shared by the sessions, never copied) are bounded too.
#[tokio::test]
async fn templates_stay_small_enough_to_clone_fast() {
    let (_db, mut c) = seeded_inventory().await;
    for t in [SAN_PABLO, LA_ESPIGA] {
        let rows = rows_of(&mut c, t).await;
        let sales = count(
            &mut c,
            t,
            "SELECT count(*) AS n FROM sales WHERE tenant_id = $1 AND $2 IS NOT NULL",
        )
        .await;
        let lines = count(
            &mut c,
            t,
            "SELECT count(*) AS n FROM sale_lines WHERE tenant_id = $1 AND $2 IS NOT NULL",
        )
        .await;
        eprintln!("{t}: {rows} rows, {sales} sales, {lines} sale lines");
        let copied = rows - sales - lines;
        assert!(
            (300..=5_000).contains(&copied),
            "{t}: {copied} rows besides the sales"
        );
        assert!((15_000..=40_000).contains(&sales), "{t}: {sales} sales");
        assert!(lines <= 120_000, "{t}: {lines} sale lines");
    }
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
    #[diesel(sql_type = Text)]
    first: String,
    #[diesel(sql_type = Text)]
    column: String,
}

#[tokio::test]
async fn every_foreign_key_resolves_inside_its_tenant() {
    let (_db, mut c) = seeded_inventory().await;
    let fks = sql_query(
        "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent, \
                a1.attname::text AS first, a2.attname::text AS column \
         FROM pg_constraint c \
         JOIN pg_attribute a1 ON a1.attrelid = c.conrelid AND a1.attnum = c.conkey[1] \
         JOIN pg_attribute a2 ON a2.attrelid = c.conrelid AND a2.attnum = c.conkey[2] \
         WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace",
    )
    .load::<ForeignKey>(&mut c)
    .await
    .expect("foreign keys");
    assert!(fks.len() >= 20, "{} foreign keys", fks.len());
    for fk in &fks {
        assert_eq!(
            fk.first, "tenant_id",
            "{} → {} is composite",
            fk.child, fk.parent
        );
        for t in [SAN_PABLO, LA_ESPIGA] {
            let (child, parent, col) = (&fk.child, &fk.parent, &fk.column);
            let referencing = count(
                &mut c,
                t,
                &format!("SELECT count(*) AS n FROM {child} WHERE tenant_id = $1 AND $2 IS NOT NULL AND {col} IS NOT NULL"),
            )
            .await;
            let inside = count(
                &mut c,
                t,
                &format!(
                    "SELECT count(*) AS n FROM {child} ch JOIN {parent} p ON p.tenant_id = ch.tenant_id AND p.id = ch.{col} \
                     WHERE ch.tenant_id = $1 AND $2 IS NOT NULL"
                ),
            )
            .await;
            let elsewhere = count(
                &mut c,
                t,
                &format!(
                    "SELECT count(*) AS n FROM {child} ch JOIN {parent} p ON p.id = ch.{col} AND p.tenant_id <> ch.tenant_id \
                     WHERE ch.tenant_id = $1 AND $2 IS NOT NULL"
                ),
            )
            .await;
            assert_eq!(referencing, inside, "{child}.{col} → {parent} for {t}");
            assert_eq!(elsewhere, 0, "{child}.{col} names ids of another tenant");
        }
    }
}

#[derive(QueryableByName)]
struct Digest {
    #[diesel(sql_type = Nullable<Text>)]
    digest: Option<String>,
}

/// A digest of every table: with `created_at` (did anything change at all?) or without it
/// (is the content the same?).
async fn dump(c: &mut AsyncPgConnection, with_timestamps: bool) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for table in TABLES {
        let row = if with_timestamps {
            "t::text".to_owned()
        } else {
            "(to_jsonb(t) - 'created_at' - 'updated_at')::text".to_owned()
        };
        let sql = format!(
            "SELECT md5(string_agg({row}, '|' ORDER BY t.tenant_id, t.id)) AS digest FROM {table} t"
        );
        out.push(
            sql_query(sql)
                .get_result::<Digest>(c)
                .await
                .expect("digest")
                .digest,
        );
    }
    out
}

#[tokio::test]
async fn seeding_twice_gives_the_same_rows() {
    let (_db, mut c) = seeded_inventory().await;
    let first = dump(&mut c, true).await;
    let first_content = dump(&mut c, false).await;

    let again = seed_inventory(&mut c, today()).await.expect("seed again");
    assert!(
        again.iter().all(|(_, o)| *o == Outcome::Unchanged),
        "{again:?}"
    );
    assert_eq!(dump(&mut c, true).await, first, "nothing was rewritten");

    // a template that drifted is put back, and only that one
    sql_query(
        "UPDATE ingredients SET unit_cost = 99 WHERE tenant_id = '00000000-0000-4000-a000-000000000001' \
         AND name = 'Harina de trigo T55'",
    )
    .execute(&mut c)
    .await
    .expect("tamper");
    sql_query(
        "DELETE FROM sale_lines WHERE tenant_id = '00000000-0000-4000-a000-000000000001' \
         AND id = (SELECT min(id::text)::uuid FROM sale_lines WHERE tenant_id = '00000000-0000-4000-a000-000000000001')",
    )
    .execute(&mut c)
    .await
    .expect("tamper");
    let repaired = seed_inventory(&mut c, today()).await.expect("seed again");
    assert!(written(&repaired, AccountType::IndividualBakery));
    assert!(!written(&repaired, AccountType::CentralBakerSatellite));
    assert_eq!(dump(&mut c, false).await, first_content, "the same content");

    // the rows are exactly the generated ones
    for a in accounts() {
        let bakery = a.bakery().expect("bakery");
        let wanted =
            bakery_demo_data::generate::inventory_rows(&a, &bakery, today()).expect("rows");
        let held = seed::load_inventory(&mut c, a.tenant_id)
            .await
            .expect("load");
        assert!(held == wanted, "{} holds the generated rows", a.name);
    }
}

#[derive(QueryableByName)]
struct RecipeCost {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Double)]
    cost: f64,
    #[diesel(sql_type = Double)]
    price: f64,
}

#[tokio::test]
async fn recipes_cost_out_to_plausible_prices() {
    let (_db, mut c) = seeded_inventory().await;
    let costs = sql_query(
        "SELECT p.name, (sum(l.quantity * i.unit_cost) / r.yield_quantity)::float8 AS cost, \
                p.sale_price::float8 AS price \
         FROM recipes r \
         JOIN products p ON p.tenant_id = r.tenant_id AND p.id = r.product_id \
         JOIN recipe_lines l ON l.tenant_id = r.tenant_id AND l.recipe_id = r.id \
         JOIN ingredients i ON i.tenant_id = l.tenant_id AND i.id = l.ingredient_id \
         GROUP BY p.name, r.yield_quantity, p.sale_price",
    )
    .load::<RecipeCost>(&mut c)
    .await
    .expect("recipe costs");
    assert!(costs.len() >= 15, "{} recipes", costs.len());
    let barra = costs
        .iter()
        .find(|r| r.name == "Barra de pan")
        .expect("a barra");
    assert!(
        (0.10..=0.60).contains(&barra.cost),
        "a barra costs {}",
        barra.cost
    );
    for r in &costs {
        assert!(r.cost > 0.0, "{} costs nothing", r.name);
        assert!(
            r.price >= r.cost * 2.0,
            "{} sells at {} for a cost of {:.3}",
            r.name,
            r.price,
            r.cost
        );
        assert!(
            r.price < r.cost * 15.0,
            "{} is implausibly cheap to make",
            r.name
        );
    }
}

#[derive(QueryableByName)]
struct DayTotal {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Double)]
    total: f64,
    #[diesel(sql_type = Bool)]
    weekend: bool,
}

#[tokio::test]
async fn sales_cover_90_days_and_today_with_weekend_peaks() {
    let (_db, mut c) = seeded_inventory().await;
    for t in [SAN_PABLO, LA_ESPIGA] {
        // days on the bakery's clock
        let days = sql_query(
            "SELECT (sold_at AT TIME ZONE 'Europe/Madrid')::date AS day, sum(total)::float8 AS total, \
                    extract(isodow FROM (sold_at AT TIME ZONE 'Europe/Madrid')) >= 6 AS weekend \
             FROM sales WHERE tenant_id = $1 GROUP BY 1, 3 ORDER BY 1",
        )
        .bind::<SqlUuid, _>(t)
        .load::<DayTotal>(&mut c)
        .await
        .expect("daily totals");
        // 90 days before today, and today's whole day (the services show the part of it
        // already rung up)
        assert_eq!(days.len(), 91);
        assert_eq!(
            days.as_slice().first().map(|d| d.day),
            Some(today() - Duration::days(90))
        );
        assert_eq!(days.as_slice().last().map(|d| d.day), Some(today()));
        let average = |weekend: bool| {
            let v: Vec<f64> = days
                .iter()
                .filter(|d| d.weekend == weekend)
                .map(|d| d.total)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let (weekend, weekday) = (average(true), average(false));
        assert!(
            weekend > weekday * 1.2,
            "{t}: weekend {weekend:.0} vs weekday {weekday:.0}"
        );
        assert!(
            weekday > 300.0,
            "{t}: a real bakery's takings, not {weekday:.0}"
        );
        // every ticket adds up
        let wrong = count(
            &mut c,
            t,
            "SELECT count(*) AS n FROM sales s WHERE tenant_id = $1 AND $2 IS NOT NULL AND total <> \
             (SELECT sum(line_total) FROM sale_lines l WHERE l.tenant_id = s.tenant_id AND l.sale_id = s.id)",
        )
        .await;
        assert_eq!(wrong, 0);
        // tickets of 1 to 5 lines, rung up while the shop is open (Madrid time)
        let odd = count(
            &mut c,
            t,
            "SELECT count(*) AS n FROM sales s WHERE tenant_id = $1 AND $2 IS NOT NULL AND \
             (SELECT count(*) FROM sale_lines l WHERE l.tenant_id = s.tenant_id AND l.sale_id = s.id) NOT BETWEEN 1 AND 5",
        )
        .await;
        assert_eq!(odd, 0);
        let at_night = count(
            &mut c,
            t,
            "SELECT count(*) AS n FROM sales WHERE tenant_id = $1 AND $2 IS NOT NULL AND \
             (sold_at AT TIME ZONE 'Europe/Madrid')::time NOT BETWEEN '07:00' AND '21:00'",
        )
        .await;
        assert_eq!(at_night, 0);
    }
}

#[derive(QueryableByName)]
struct DemoUser {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    password_hash: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Bool)]
    is_demo_template: bool,
    #[diesel(sql_type = Nullable<Text>)]
    demo_account_type: Option<String>,
}

async fn demo_users(c: &mut AsyncPgConnection) -> Vec<DemoUser> {
    sql_query(
        "SELECT u.tenant_id, u.email, u.password_hash, u.role, t.is_demo_template, t.demo_account_type \
         FROM users u JOIN tenants t ON t.id = u.tenant_id ORDER BY u.email DESC",
    )
    .load::<DemoUser>(c)
    .await
    .expect("users")
}

#[tokio::test]
async fn demo_users_log_in_with_the_published_passwords() {
    let db = TestDatabase::migrated(TENANT).await;
    let mut c = connect(&db).await;
    // users need their tenants: seed-demo-users makes sure they exist
    let report = seed_users(&mut c).await.expect("seed users");
    assert_eq!(report.len(), 2);
    assert!(
        report
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Written { .. }))
    );

    let users = demo_users(&mut c).await;
    assert_eq!(users.len(), 2);
    let published = [
        (
            "demo.individual@panaderiasanpablo.com",
            "DemoSanPablo2024!",
            SAN_PABLO,
            "individual_bakery",
        ),
        (
            "demo.central@panaderialaespiga.com",
            "DemoLaEspiga2024!",
            LA_ESPIGA,
            "central_baker_satellite",
        ),
    ];
    for (u, (email, password, tenant, account_type)) in users.iter().zip(published) {
        assert_eq!(u.email, email);
        assert_eq!(u.tenant_id, tenant);
        assert_eq!(u.role, "owner");
        assert!(u.is_demo_template);
        assert_eq!(u.demo_account_type.as_deref(), Some(account_type));
        assert!(u.password_hash.starts_with("$argon2id$"));
        assert!(bakery_tenant::password::verify(password, &u.password_hash));
    }

    // again: nothing changes, not even the salted hashes
    let again = seed_users(&mut c).await.expect("seed users again");
    assert!(
        again.iter().all(|(_, o)| *o == Outcome::Unchanged),
        "{again:?}"
    );
    let tenants = seed_tenants(&mut c).await.expect("seed tenants");
    assert!(
        tenants.iter().all(|(_, o)| *o == Outcome::Unchanged),
        "{tenants:?}"
    );
    let hashes: Vec<String> = demo_users(&mut c)
        .await
        .into_iter()
        .map(|u| u.password_hash)
        .collect();
    assert_eq!(
        hashes,
        users
            .iter()
            .map(|u| u.password_hash.clone())
            .collect::<Vec<_>>()
    );

    // a template renamed by hand is put back
    sql_query("UPDATE tenants SET name = 'Otra' WHERE id = '00000000-0000-4000-a000-000000000002'")
        .execute(&mut c)
        .await
        .expect("tamper");
    let fixed = seed_tenants(&mut c).await.expect("seed tenants");
    assert!(written(&fixed, AccountType::CentralBakerSatellite));
    assert!(!written(&fixed, AccountType::IndividualBakery));
}

#[tokio::test]
async fn tenants_are_the_two_templates_with_fixed_ids() {
    let db = TestDatabase::migrated(TENANT).await;
    let mut c = connect(&db).await;
    seed_tenants(&mut c).await.expect("seed tenants");
    assert_eq!(
        count(
            &mut c,
            SAN_PABLO,
            "SELECT count(*) AS n FROM tenants WHERE id = $1 AND $2 IS NOT NULL \
              AND is_demo_template AND NOT is_demo AND demo_account_type = 'individual_bakery' \
              AND name = 'Panadería San Pablo - Demo' AND city = 'Madrid'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&mut c, LA_ESPIGA, "SELECT count(*) AS n FROM tenants WHERE id = $1 AND $2 IS NOT NULL \
              AND is_demo_template AND NOT is_demo AND demo_account_type = 'central_baker_satellite' \
              AND name = 'Panadería La Espiga - Demo' AND city = 'Barcelona'").await,
        1
    );
    // no users: that is seed-demo-users' job
    assert_eq!(
        count(
            &mut c,
            SAN_PABLO,
            "SELECT count(*) AS n FROM users WHERE $1 IS NOT NULL AND $2 IS NOT NULL"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_seed_that_fails_half_way_leaves_nothing() {
    // inventory: the last table refuses rows, so every earlier table was already written
    let db = TestDatabase::migrated(INVENTORY).await;
    let mut c = connect(&db).await;
    sql_query("ALTER TABLE forecast_models ADD CONSTRAINT refuse_everything CHECK (false)")
        .execute(&mut c)
        .await
        .expect("break the last table");
    seed_inventory(&mut c, today())
        .await
        .expect_err("the seed must fail");
    for t in [SAN_PABLO, LA_ESPIGA] {
        assert_eq!(rows_of(&mut c, t).await, 0, "nothing of {t} is left");
    }

    // a failed re-seed leaves the previous template as it was
    sql_query("ALTER TABLE forecast_models DROP CONSTRAINT refuse_everything")
        .execute(&mut c)
        .await
        .expect("repair");
    seed_inventory(&mut c, today()).await.expect("seed");
    let before = rows_of(&mut c, SAN_PABLO).await;
    sql_query(
        "ALTER TABLE forecast_models ADD CONSTRAINT refuse_everything CHECK (false) NOT VALID",
    )
    .execute(&mut c)
    .await
    .expect("break the last table again");
    // a day later every dated row differs, so the template would be rewritten
    seed_inventory(&mut c, today() + Duration::days(1))
        .await
        .expect_err("the seed must fail");
    assert_eq!(rows_of(&mut c, SAN_PABLO).await, before);
    let unchanged = seed_inventory(&mut c, today()).await.expect("same day");
    assert!(
        unchanged.iter().all(|(_, o)| *o == Outcome::Unchanged),
        "the old template is intact"
    );

    // tenant database: users fail after the tenants were written
    let db = TestDatabase::migrated(TENANT).await;
    let mut c = connect(&db).await;
    sql_query("ALTER TABLE users ADD CONSTRAINT refuse_everything CHECK (false)")
        .execute(&mut c)
        .await
        .expect("break users");
    seed_users(&mut c).await.expect_err("the seed must fail");
    assert_eq!(
        count(
            &mut c,
            SAN_PABLO,
            "SELECT count(*) AS n FROM tenants WHERE $1 IS NOT NULL AND $2 IS NOT NULL"
        )
        .await,
        0,
        "no template tenant without its user"
    );
}
