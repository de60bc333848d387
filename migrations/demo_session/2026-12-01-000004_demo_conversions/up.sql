-- From demo to customer (docs/demo-sessions.md, "From demo to customer"): one row per
-- session that converted or is converting. The primary key makes a conversion unique per
-- session; the tenant and user ids are derived from the session id, so a retry (or a
-- second submit) always names the same account. No personal data: the address, name and
-- password live only in the tenant database.
CREATE TABLE demo_conversions (
    session_id   text PRIMARY KEY CHECK (session_id ~ '^demo_[A-Za-z0-9_-]{22,64}$'),
    tenant_id    uuid NOT NULL UNIQUE,
    user_id      uuid NOT NULL,
    -- started: the saga is writing the tenant and inventory databases (a row left
    -- started names what a crash may have left behind); completed: the account exists
    status       text NOT NULL CHECK (status IN ('started', 'completed')),
    -- rows copied per table
    kept         jsonb NOT NULL DEFAULT '{}',
    started_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT demo_conversions_completed CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);
CREATE INDEX demo_conversions_started_idx ON demo_conversions (started_at) WHERE status = 'started';
