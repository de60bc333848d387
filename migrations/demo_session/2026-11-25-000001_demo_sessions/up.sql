-- The truth about demo sessions. Not tenant-owned: it is the platform's registry of the
-- virtual tenants it created, read across tenants by design.
CREATE TABLE demo_sessions (
    id                 text PRIMARY KEY CHECK (id ~ '^demo_[A-Za-z0-9_-]{22,64}$'),
    virtual_tenant_id  uuid NOT NULL UNIQUE,
    base_tenant_id     uuid NOT NULL,
    demo_account_type  text NOT NULL CHECK (demo_account_type IN ('individual_bakery', 'central_baker_satellite')),
    status             text NOT NULL CHECK (status IN ('pending', 'ready', 'expired', 'destroyed', 'failed')),
    clone_strategy     text NOT NULL CHECK (clone_strategy IN ('inline', 'k8s-job')),
    -- a keyed hash of the client's address (or /64 for IPv6); never the address itself
    client_ip_hash     text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    ready_at           timestamptz,
    expires_at         timestamptz NOT NULL,
    extensions_used    integer NOT NULL DEFAULT 0 CHECK (extensions_used >= 0),
    ended_at           timestamptz,
    destroyed_at       timestamptz,
    failure_reason     text,
    clone_duration_ms  integer,
    cleanup_attempts   integer NOT NULL DEFAULT 0,
    last_cleanup_error text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX demo_sessions_status_expires_idx ON demo_sessions (status, expires_at);
CREATE INDEX demo_sessions_created_idx ON demo_sessions (created_at);
CREATE INDEX demo_sessions_ip_created_idx ON demo_sessions (client_ip_hash, created_at);
