-- The two per-transaction settings row-level security reads (see docs/tenancy.md).
-- STABLE SQL functions are inlined and evaluated once per statement, so
-- `tenant_id = app_current_tenant()` can still use the (tenant_id, …) indexes.
CREATE FUNCTION app_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION app_all_tenants() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.all_tenants', true), '') = 'on' $$;
