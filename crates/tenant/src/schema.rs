// Mirrors migrations/tenant. Kept by hand (no diesel CLI, so no libpq on build machines);
// `tests/tenancy.rs` (`the_schema_matches_the_database`) loads every column of both
// tables from the migrated database.

diesel::table! {
    tenants (id) {
        id -> Uuid,
        name -> Text,
        slug -> Text,
        business_model -> Text,
        city -> Text,
        country -> Text,
        timezone -> Text,
        is_demo -> Bool,
        is_demo_template -> Bool,
        demo_account_type -> Nullable<Text>,
        base_demo_tenant_id -> Nullable<Uuid>,
        demo_session_id -> Nullable<Text>,
        demo_expires_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        full_name -> Text,
        role -> Text,
        is_active -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(users -> tenants (tenant_id));
diesel::allow_tables_to_appear_in_same_query!(tenants, users);
