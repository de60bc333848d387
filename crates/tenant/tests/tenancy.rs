//! The tenant database: migrations apply and roll back, users stay inside their tenant,
//! and row-level security hides other tenants.
#![allow(
    clippy::expect_used,
    reason = "a test fails loudly on what it cannot set up"
)]

use bakery_config::db;
use bakery_test_support::{MigrationSet, TestDatabase};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use bakery_tenant::models::{NewTenant, NewUser, Tenant, User};
use bakery_tenant::schema::{tenants, users};

const TENANT: MigrationSet = MigrationSet {
    name: "tenant",
    migrations: || bakery_tenant::MIGRATIONS,
};

fn new_tenant(id: Uuid, slug: &str) -> NewTenant<'_> {
    NewTenant {
        id,
        name: "Panadería de prueba",
        slug,
        business_model: "individual_bakery",
        city: "Madrid",
        timezone: "Europe/Madrid",
        is_demo: false,
        is_demo_template: false,
        demo_account_type: None,
        base_demo_tenant_id: None,
        demo_session_id: None,
        demo_expires_at: None,
    }
}

async fn seed(conn: &mut AsyncPgConnection) -> (Uuid, Uuid) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        db::allow_all_tenants(c).await?;
        for (id, slug, email) in [
            (a, "horno-a", "ana@horno-a.es"),
            (b, "horno-b", "bea@horno-b.es"),
        ] {
            diesel::insert_into(tenants::table)
                .values(new_tenant(id, slug))
                .execute(c)
                .await?;
            diesel::insert_into(users::table)
                .values(NewUser {
                    tenant_id: id,
                    id: Uuid::new_v4(),
                    email,
                    password_hash: "$argon2id$placeholder",
                    full_name: "Dueña",
                    role: "owner",
                })
                .execute(c)
                .await?;
        }
        Ok(())
    })
    .await
    .expect("seed");
    (a, b)
}

#[tokio::test]
async fn migrations_apply_and_roll_back_completely() {
    // up, down (the schema is the empty database's again), up (the same schema)
    let schema = bakery_test_support::assert_migrations_reversible(TENANT).await;
    let tables = bakery_test_support::tables(&schema);
    assert_eq!(tables.len(), 2, "{tables:#?}");
    assert!(
        tables.iter().all(|t| t.ends_with("rls=t forced=t")),
        "tenants and users have forced RLS: {tables:#?}"
    );
    assert!(schema.iter().any(|o| o == "function app_current_tenant()"));
}

#[tokio::test]
async fn the_schema_matches_the_database() {
    let database = TestDatabase::migrated(TENANT).await;
    let mut conn = AsyncPgConnection::establish(&database.url)
        .await
        .expect("connect");
    seed(&mut conn).await;
    let (t, u) = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            let t = tenants::table.select(Tenant::as_select()).load(c).await?;
            let u = users::table.select(User::as_select()).load(c).await?;
            Ok((t, u))
        })
        .await
        .expect("every column loads");
    assert_eq!((t.len(), u.len()), (2, 2));
}

#[tokio::test]
async fn a_user_cannot_belong_to_a_missing_tenant_and_emails_are_unique() {
    let database = TestDatabase::migrated(TENANT).await;
    let mut conn = AsyncPgConnection::establish(&database.url)
        .await
        .expect("connect");
    let (a, _) = seed(&mut conn).await;
    let orphan = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            diesel::insert_into(users::table)
                .values(NewUser {
                    tenant_id: Uuid::new_v4(),
                    id: Uuid::new_v4(),
                    email: "x@y.es",
                    password_hash: "h",
                    full_name: "X",
                    role: "owner",
                })
                .execute(c)
                .await
        })
        .await;
    assert!(orphan.expect_err("fk").to_string().contains("foreign key"));

    let duplicate = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::scope_to_tenant(c, a).await?;
            diesel::insert_into(users::table)
                .values(NewUser {
                    tenant_id: a,
                    id: Uuid::new_v4(),
                    email: "ANA@horno-a.es",
                    password_hash: "h",
                    full_name: "Otra Ana",
                    role: "member",
                })
                .execute(c)
                .await
        })
        .await;
    assert!(
        duplicate
            .expect_err("unique")
            .to_string()
            .contains("users_email_key")
    );
}

#[tokio::test]
async fn a_tenant_sees_only_itself() {
    let database = TestDatabase::migrated(TENANT).await;
    let mut conn = AsyncPgConnection::establish(&database.url)
        .await
        .expect("connect");
    let (a, b) = seed(&mut conn).await;
    let (visible_tenants, visible_users) = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::scope_to_tenant(c, a).await?;
            let t: Vec<Uuid> = tenants::table.select(tenants::id).load(c).await?;
            let u: Vec<String> = users::table.select(users::email).load(c).await?;
            Ok((t, u))
        })
        .await
        .expect("scoped");
    assert_eq!(visible_tenants, vec![a]);
    assert_eq!(visible_users, vec!["ana@horno-a.es".to_owned()]);
    assert!(!visible_tenants.contains(&b));
}

#[tokio::test]
async fn a_virtual_tenant_must_name_its_template_session_and_end() {
    let database = TestDatabase::migrated(TENANT).await;
    let mut conn = AsyncPgConnection::establish(&database.url)
        .await
        .expect("connect");
    let id = Uuid::new_v4();
    let incomplete = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            db::allow_all_tenants(c).await?;
            let mut t = new_tenant(id, "demo-incompleto");
            t.is_demo = true;
            diesel::insert_into(tenants::table)
                .values(t)
                .execute(c)
                .await
        })
        .await;
    assert!(
        incomplete
            .expect_err("check constraint")
            .to_string()
            .contains("tenants_virtual_complete")
    );
}
