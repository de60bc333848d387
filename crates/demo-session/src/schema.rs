// Mirrors migrations/demo_session (kept by hand; the tests load every column).
// `id`, `demo_account_type` and `status` are `text` with a CHECK, not enums: Rust reads and
// writes them as `SessionId`, `AccountType` and `SessionStatus` (`bakery_config::demo`
// implements `FromSql`/`ToSql` for `Text`).

diesel::table! {
    demo_sessions (id) {
        id -> Text,
        virtual_tenant_id -> Uuid,
        base_tenant_id -> Uuid,
        demo_account_type -> Text,
        status -> Text,
        clone_strategy -> Text,
        client_ip_hash -> Nullable<Text>,
        created_at -> Timestamptz,
        ready_at -> Nullable<Timestamptz>,
        expires_at -> Timestamptz,
        extensions_used -> Int4,
        ended_at -> Nullable<Timestamptz>,
        destroyed_at -> Nullable<Timestamptz>,
        failure_reason -> Nullable<Text>,
        clone_duration_ms -> Nullable<Int4>,
        cleanup_attempts -> Int4,
        last_cleanup_error -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    warm_tenants (virtual_tenant_id) {
        virtual_tenant_id -> Uuid,
        base_tenant_id -> Uuid,
        demo_account_type -> Text,
        cloned_for -> Date,
        ready -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    demo_queue (token) {
        token -> Text,
        position -> Int8,
        demo_account_type -> Text,
        client_ip_hash -> Text,
        enqueued_at -> Timestamptz,
        last_polled_at -> Timestamptz,
        session_id -> Nullable<Text>,
        admitted_at -> Nullable<Timestamptz>,
    }
}
