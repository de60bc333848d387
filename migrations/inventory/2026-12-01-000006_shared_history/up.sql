-- Shared history (docs/tenancy.md, "Shared history"): a virtual tenant reads its template's
-- past tickets instead of holding a copy of them. Past tickets are read-only for everybody
-- (the API has no PUT, PATCH or DELETE for a sale), so one copy serves every session, and a
-- clone copies only the rows a prospect can change (a few thousand, whatever the size of
-- the history).
--
-- Isolation stays in the database, by construction:
-- - which template a tenant reads is one row here, which only the cloner (a transaction
--   with `app.all_tenants`) can write: no tenant can point itself at another's data;
-- - the extra policies are `FOR SELECT` only: an INSERT, UPDATE or DELETE of a tenant is
--   still checked against `tenant_isolation` alone, so it can never touch a template row;
-- - a template's tickets are readable once their time has come (`sold_at <= now()`): the
--   template holds today's whole day, and a session sees the day fill up as it goes.

CREATE TABLE history_shares (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    -- the tenant whose sales and sale lines `tenant_id` reads besides its own
    template_id uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    -- one source of history per tenant
    UNIQUE (tenant_id),
    CHECK (template_id <> tenant_id)
);

ALTER TABLE history_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE history_shares FORCE ROW LEVEL SECURITY;
-- readable by its tenant, written only with `app.all_tenants` (the cloner, cleanup)
CREATE POLICY tenant_isolation ON history_shares
    USING (app_all_tenants() OR tenant_id = app_current_tenant())
    WITH CHECK (app_all_tenants());

-- The template whose history the current tenant reads (NULL for customers and templates).
-- Policies call it as `(SELECT app_shared_history_tenant())`: an uncorrelated subquery is
-- an InitPlan, run once per statement instead of once per row.
CREATE FUNCTION app_shared_history_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT template_id FROM history_shares WHERE tenant_id = app_current_tenant() $$;

-- Permissive policies add up (OR) for the command they name: these widen SELECT only.
CREATE POLICY shared_history ON sales FOR SELECT
    USING (tenant_id = (SELECT app_shared_history_tenant()) AND sold_at <= now());
-- A line is read with its sale (every query of lines joins or names visible sales).
CREATE POLICY shared_history ON sale_lines FOR SELECT
    USING (tenant_id = (SELECT app_shared_history_tenant()));
