-- The warm pool: virtual tenants cloned ahead of demand, so creating a session only has to
-- claim one. A row owns its virtual tenant from before the clone starts (ready = false)
-- until a session claims it (the row is deleted in the same statement that inserts the
-- session), so cleanup never mistakes a pooled tenant for an orphan.
CREATE TABLE warm_tenants (
    virtual_tenant_id uuid PRIMARY KEY,
    base_tenant_id    uuid NOT NULL,
    demo_account_type text NOT NULL CHECK (demo_account_type IN ('individual_bakery', 'central_baker_satellite')),
    -- the day its dates were rebased to: only today's clones are handed out
    cloned_for        date NOT NULL,
    ready             boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX warm_tenants_claim_idx ON warm_tenants (demo_account_type, cloned_for, created_at) WHERE ready;
