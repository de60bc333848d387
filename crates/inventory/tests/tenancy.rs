//! The tenancy invariant, checked against real PostgreSQL: migrations apply and roll back,
//! the hand-kept Diesel schema names the migrated columns, composite keys keep rows inside
//! their tenant, and row-level security hides other tenants' rows even from a query
//! without a `WHERE`.
#![allow(
    clippy::expect_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use bakery_config::db;
use bakery_test_support::{MigrationSet, TestDatabase};
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

const INVENTORY: MigrationSet = MigrationSet {
    name: "inventory",
    migrations: || bakery_inventory::MIGRATIONS,
};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    sql_query(sql)
        .get_result::<Count>(conn)
        .await
        .expect("count query")
        .n
}

async fn connect(db: &TestDatabase) -> AsyncPgConnection {
    AsyncPgConnection::establish(&db.url)
        .await
        .expect("connect")
}

async fn insert_supplier(conn: &mut AsyncPgConnection, tenant: Uuid, name: &str) -> Uuid {
    let id = Uuid::new_v4();
    sql_query(
        "INSERT INTO suppliers (tenant_id, id, name, kind) VALUES ($1, $2, $3, 'wholesaler')",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(name)
    .execute(conn)
    .await
    .expect("insert supplier");
    id
}

async fn insert_ingredient(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    name: &str,
    supplier: Option<Uuid>,
) -> diesel::QueryResult<usize> {
    sql_query(
        "INSERT INTO ingredients (tenant_id, id, name, unit, unit_cost, supplier_id) \
         VALUES ($1, $2, $3, 'kg', 0.85, $4)",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(Uuid::new_v4())
    .bind::<Text, _>(name)
    .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(supplier)
    .execute(conn)
    .await
}

/// Two tenants with one supplier and one ingredient each, written across tenants.
async fn two_tenants(conn: &mut AsyncPgConnection) -> (Uuid, Uuid) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        for (t, label) in [(a, "A"), (b, "B")] {
            let s = insert_supplier(c, t, &format!("Harinera {label}")).await;
            insert_ingredient(c, t, &format!("Harina de trigo T55 {label}"), Some(s)).await?;
        }
        Ok(())
    })
    .await
    .expect("seed two tenants");
    (a, b)
}

#[tokio::test]
async fn migrations_apply_and_roll_back_completely() {
    // up, down (the schema is the empty database's again), up (the same schema)
    let schema = bakery_test_support::assert_migrations_reversible(INVENTORY).await;
    let tables = bakery_test_support::tables(&schema);
    // the 14 of the model plus demo_row_usage (the demo row quota) and history_shares
    // (whose sales history a virtual tenant reads)
    assert_eq!(tables.len(), 16, "{tables:#?}");
    assert!(
        tables.iter().all(|t| t.ends_with("rls=t forced=t")),
        "every table has forced RLS: {tables:#?}"
    );
    let policies: Vec<&String> = schema.iter().filter(|o| o.starts_with("policy ")).collect();
    // one tenant policy per table, and the read-only shared history of sales and lines
    let shared = policies
        .iter()
        .filter(|p| p.contains("shared_history"))
        .count();
    assert_eq!((policies.len(), shared), (18, 2), "{policies:#?}");
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// `(table, the columns `bakery_inventory::schema` declares for it)`, read from the SQL
/// Diesel writes for `SELECT` of all of them.
macro_rules! declared {
    ($($table:ident),* $(,)?) => {{
        use diesel::QueryDsl;
        use bakery_inventory::schema::*;
        vec![$({
            let sql = diesel::debug_query::<diesel::pg::Pg, _>(
                &$table::table.select($table::all_columns),
            )
            .to_string();
            let list = sql
                .strip_prefix("SELECT ")
                .and_then(|s| s.split(" FROM ").next())
                .unwrap_or_default();
            let mut columns: Vec<String> = list
                .split(", ")
                .filter_map(|c| c.rsplit('.').next())
                .map(|c| c.trim_matches('"').to_owned())
                .collect();
            columns.sort();
            (stringify!($table), columns)
        }),*]
    }};
}

#[tokio::test]
async fn the_schema_names_every_migrated_column() {
    let database = TestDatabase::migrated(INVENTORY).await;
    let mut conn = connect(&database).await;
    let declared = bakery_inventory::model_tables!(declared, demo_row_usage, history_shares);
    let tables = count(
        &mut conn,
        "SELECT count(*) AS n FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .await;
    assert_eq!(
        usize::try_from(tables).ok(),
        Some(declared.len()),
        "every table is declared"
    );
    for (table, columns) in declared {
        let mut migrated: Vec<String> = sql_query(
            "SELECT column_name::text AS column_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind::<Text, _>(table)
        .load::<Column>(&mut conn)
        .await
        .expect("columns")
        .into_iter()
        .map(|c| c.column_name)
        .collect();
        migrated.sort();
        assert_eq!(columns, migrated, "{table}");
    }
}

#[tokio::test]
async fn every_index_starts_with_tenant_id() {
    let database = TestDatabase::migrated(INVENTORY).await;
    let mut conn = connect(&database).await;
    let offenders = count(
        &mut conn,
        "SELECT count(*) AS n FROM pg_index i \
         JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] \
         WHERE ns.nspname = 'public' AND t.relname <> '__diesel_schema_migrations' \
           AND a.attname <> 'tenant_id'",
    )
    .await;
    assert_eq!(offenders, 0);
}

#[tokio::test]
async fn a_row_cannot_reference_another_tenants_row() {
    let database = TestDatabase::migrated(INVENTORY).await;
    let mut conn = connect(&database).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let result = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            let supplier_of_a = insert_supplier(c, a, "Harinera Castellana").await;
            // tenant B's ingredient pointing at tenant A's supplier
            insert_ingredient(c, b, "Harina T65", Some(supplier_of_a)).await
        })
        .await;
    let err = result.expect_err("the composite foreign key must reject it");
    assert!(
        err.to_string().contains("foreign key"),
        "unexpected error: {err}"
    );
}

#[tokio::test]
async fn row_level_security_hides_other_tenants_without_a_where() {
    let database = TestDatabase::migrated(INVENTORY).await;
    let mut conn = connect(&database).await;
    let (a, b) = two_tenants(&mut conn).await;

    for tenant in [a, b] {
        let (ingredients, suppliers, foreign) = conn
            .transaction::<_, diesel::result::Error, _>(async |c| {
                db::scope_to_tenant(c, tenant).await?;
                let i = count(c, "SELECT count(*) AS n FROM ingredients").await;
                let s = count(c, "SELECT count(*) AS n FROM suppliers").await;
                let f = count(
                    c,
                    &format!("SELECT count(*) AS n FROM ingredients WHERE tenant_id <> '{tenant}'"),
                )
                .await;
                Ok((i, s, f))
            })
            .await
            .expect("scoped read");
        assert_eq!((ingredients, suppliers, foreign), (1, 1, 0));
    }

    // no tenant set: nothing at all
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM ingredients").await,
        0
    );
}

#[tokio::test]
async fn row_level_security_refuses_writes_into_another_tenant() {
    let database = TestDatabase::migrated(INVENTORY).await;
    let mut conn = connect(&database).await;
    let (a, b) = two_tenants(&mut conn).await;

    let write = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::scope_to_tenant(c, a).await?;
            insert_ingredient(c, b, "Sal marina", None).await
        })
        .await;
    let err = write.expect_err("WITH CHECK must refuse it");
    assert!(err.to_string().contains("row-level security"), "{err}");

    // updates and deletes cannot reach the other tenant either
    let touched = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::scope_to_tenant(c, a).await?;
            let u = sql_query("UPDATE ingredients SET unit_cost = 0 WHERE tenant_id = $1")
                .bind::<SqlUuid, _>(b)
                .execute(c)
                .await?;
            let d = sql_query("DELETE FROM ingredients WHERE tenant_id = $1")
                .bind::<SqlUuid, _>(b)
                .execute(c)
                .await?;
            Ok((u, d))
        })
        .await
        .expect("scoped writes");
    assert_eq!(touched, (0, 0), "tenant B's rows are invisible to tenant A");

    let b_rows = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::scope_to_tenant(c, b).await?;
            Ok(count(
                c,
                "SELECT count(*) AS n FROM ingredients WHERE unit_cost > 0",
            )
            .await)
        })
        .await
        .expect("read B");
    assert_eq!(b_rows, 1, "tenant B's data is untouched");
}

#[tokio::test]
async fn the_tenant_setting_ends_with_the_transaction() {
    let database = TestDatabase::migrated(INVENTORY).await;
    let mut conn = connect(&database).await;
    let (a, _) = two_tenants(&mut conn).await;
    conn.transaction::<_, diesel::result::Error, _>(async |c| db::scope_to_tenant(c, a).await)
        .await
        .expect("scope");
    // the same (pooled) connection, next transaction: nothing visible
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM ingredients").await,
        0
    );
}

// ---------------------------------------------------------------------------------------
// Shared history: a virtual tenant reads its template's tickets, never writes them, and
// sees nothing of any other tenant.

/// The role a service could run as without owning the tables (`scripts/lib.sh` creates it
/// and lets the test role switch to it): row-level security must hold for it as for the
/// owner, whose policies are forced.
const NON_OWNER: &str = "bakery_service";

struct History {
    template: Uuid,
    other_template: Uuid,
    virtual_tenant: Uuid,
    customer: Uuid,
    /// The template's ticket of yesterday, its line, and its ticket due in an hour.
    past_sale: Uuid,
    past_line: Uuid,
    future_sale: Uuid,
    own_sale: Uuid,
}

async fn insert_sale(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    sold_at: &str,
) -> diesel::QueryResult<Uuid> {
    let id = Uuid::new_v4();
    sql_query(format!(
        "INSERT INTO sales (tenant_id, id, sold_at, total) VALUES ($1, $2, {sold_at}, 2.20)"
    ))
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(id)
    .execute(c)
    .await?;
    Ok(id)
}

/// Two templates, a virtual tenant of the first (its `history_shares` row, as the cloner
/// writes it) and a customer, each with tickets.
async fn shared_history(conn: &mut AsyncPgConnection) -> History {
    let [template, other_template, virtual_tenant, customer] = [(); 4].map(|()| Uuid::new_v4());
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        let product = Uuid::new_v4();
        sql_query(
            "INSERT INTO products (tenant_id, id, name, kind, sale_price) \
             VALUES ($1, $2, 'Barra de pan', 'finished', 1.10)",
        )
        .bind::<SqlUuid, _>(template)
        .bind::<SqlUuid, _>(product)
        .execute(c)
        .await?;
        let past_sale = insert_sale(c, template, "now() - interval '1 day'").await?;
        let past_line = Uuid::new_v4();
        sql_query(
            "INSERT INTO sale_lines (tenant_id, id, sale_id, product_id, quantity, unit_price, \
             line_total) VALUES ($1, $2, $3, $4, 2, 1.10, 2.20)",
        )
        .bind::<SqlUuid, _>(template)
        .bind::<SqlUuid, _>(past_line)
        .bind::<SqlUuid, _>(past_sale)
        .bind::<SqlUuid, _>(product)
        .execute(c)
        .await?;
        let future_sale = insert_sale(c, template, "now() + interval '1 hour'").await?;
        insert_sale(c, other_template, "now() - interval '1 day'").await?;
        insert_sale(c, customer, "now() - interval '1 day'").await?;
        let own_sale = insert_sale(c, virtual_tenant, "now()").await?;
        sql_query("INSERT INTO history_shares (tenant_id, template_id) VALUES ($1, $2)")
            .bind::<SqlUuid, _>(virtual_tenant)
            .bind::<SqlUuid, _>(template)
            .execute(c)
            .await?;
        Ok(History {
            template,
            other_template,
            virtual_tenant,
            customer,
            past_sale,
            past_line,
            future_sale,
            own_sale,
        })
    })
    .await
    .expect("seed the shared history")
}

/// Lets `NON_OWNER` use this database's tables as a service would.
async fn grant_non_owner(conn: &mut AsyncPgConnection) {
    sql_query(format!(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {NON_OWNER}"
    ))
    .execute(conn)
    .await
    .expect("grant the non-owner role (scripts/lib.sh creates it)");
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Runs `f` in a transaction scoped to `tenant`, as `role` (`None`: the owner); commits
/// what succeeded, rolls back what failed.
async fn as_tenant<T>(
    conn: &mut AsyncPgConnection,
    role: Option<&str>,
    tenant: Uuid,
    f: impl AsyncFnOnce(&mut AsyncPgConnection) -> diesel::QueryResult<T>,
) -> diesel::QueryResult<T> {
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute("BEGIN").await?;
    let result = async {
        if let Some(role) = role {
            sql_query(format!("SET LOCAL ROLE {role}"))
                .execute(conn)
                .await?;
        }
        db::scope_to_tenant(conn, tenant).await?;
        f(conn).await
    }
    .await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    conn.batch_execute(end).await?;
    result
}

async fn sale_ids(c: &mut AsyncPgConnection) -> diesel::QueryResult<Vec<Uuid>> {
    let mut ids: Vec<Uuid> = sql_query("SELECT id FROM sales")
        .load::<Id>(c)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    Ok(ids)
}

#[tokio::test]
async fn a_virtual_tenant_reads_its_templates_history_up_to_now_and_nothing_else() {
    let database = TestDatabase::migrated(INVENTORY).await;
    let mut conn = connect(&database).await;
    let h = shared_history(&mut conn).await;
    grant_non_owner(&mut conn).await;

    for role in [None, Some(NON_OWNER)] {
        // no WHERE at all: row-level security alone decides
        let seen = as_tenant(&mut conn, role, h.virtual_tenant, sale_ids)
            .await
            .expect("read as the virtual tenant");
        let mut expected = vec![h.past_sale, h.own_sale];
        expected.sort();
        assert_eq!(
            seen, expected,
            "own and the template's past tickets ({role:?})"
        );
        assert!(!seen.contains(&h.future_sale), "not a ticket still to come");

        let lines: Vec<Uuid> = as_tenant(&mut conn, role, h.virtual_tenant, async |c| {
            Ok(sql_query("SELECT id FROM sale_lines")
                .load::<Id>(c)
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect())
        })
        .await
        .expect("lines");
        assert_eq!(lines, vec![h.past_line], "{role:?}");

        // a customer, and the other template, share nothing
        for (tenant, own) in [(h.customer, 1), (h.other_template, 1)] {
            let seen = as_tenant(&mut conn, role, tenant, sale_ids)
                .await
                .expect("read");
            assert_eq!(seen.len(), own, "{role:?}");
            assert!(!seen.contains(&h.past_sale) && !seen.contains(&h.own_sale));
        }
    }
}

#[tokio::test]
async fn no_write_of_a_virtual_tenant_touches_its_templates_history() {
    let database = TestDatabase::migrated(INVENTORY).await;
    let mut conn = connect(&database).await;
    let h = shared_history(&mut conn).await;
    grant_non_owner(&mut conn).await;

    for role in [None, Some(NON_OWNER)] {
        let touched = as_tenant(&mut conn, role, h.virtual_tenant, async |c| {
            let mut n = 0;
            for sql in [
                "UPDATE sales SET total = 0 WHERE tenant_id = $1",
                "UPDATE sale_lines SET quantity = 99 WHERE tenant_id = $1",
                "DELETE FROM sale_lines WHERE tenant_id = $1",
                "DELETE FROM sales WHERE tenant_id = $1",
            ] {
                n += sql_query(sql)
                    .bind::<SqlUuid, _>(h.template)
                    .execute(c)
                    .await?;
            }
            Ok(n)
        })
        .await
        .expect("scoped writes");
        assert_eq!(touched, 0, "the template's rows are read-only ({role:?})");

        // nor can it write a row as the template, or point itself at another's history
        let as_template = as_tenant(&mut conn, role, h.virtual_tenant, async |c| {
            insert_sale(c, h.template, "now()").await
        })
        .await;
        assert!(
            as_template.is_err_and(|e| e.to_string().contains("row-level security")),
            "{role:?}"
        );
        for sql in [
            "UPDATE history_shares SET template_id = $1",
            "INSERT INTO history_shares (tenant_id, template_id) \
             VALUES (app_current_tenant(), $1)",
        ] {
            let moved = as_tenant(&mut conn, role, h.virtual_tenant, async |c| {
                sql_query(sql)
                    .bind::<SqlUuid, _>(h.other_template)
                    .execute(c)
                    .await
            })
            .await;
            assert!(moved.is_err(), "{sql} ({role:?}): {moved:?}");
        }
        let customer_share = as_tenant(&mut conn, role, h.customer, async |c| {
            sql_query("INSERT INTO history_shares (tenant_id, template_id) VALUES ($1, $2)")
                .bind::<SqlUuid, _>(h.customer)
                .bind::<SqlUuid, _>(h.template)
                .execute(c)
                .await
        })
        .await;
        assert!(
            customer_share.is_err(),
            "a customer cannot give itself a template's history ({role:?})"
        );
    }

    // the template is whole: two tickets, the line, its totals
    let template_rows = as_tenant(&mut conn, None, h.template, async |c| {
        Ok((
            count(c, "SELECT count(*) AS n FROM sales WHERE total = 2.20").await,
            count(c, "SELECT count(*) AS n FROM sale_lines WHERE quantity = 2").await,
        ))
    })
    .await
    .expect("read the template");
    assert_eq!(template_rows, (2, 1));
}
