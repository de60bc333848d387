-- A warm pool tenant handed to its session in one statement: demo-session's create waits
-- for this on every pool hit, and a transaction of its own (BEGIN, the tenant scope, the
-- UPDATE, COMMIT) was four round trips. SECURITY INVOKER (the default): row-level security
-- applies to the caller as for any statement, and the scope is set first, in a statement
-- of its own, so the UPDATE's `app_current_tenant()` reads it; `set_config(…, true)` ends
-- with the caller's transaction. Answers how many rows it changed (1, or 0: no such demo
-- tenant).
CREATE FUNCTION adopt_demo_tenant(tenant uuid, session_id text, expires_at timestamptz)
    RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    changed integer;
BEGIN
    PERFORM set_config('app.tenant_id', tenant::text, true);
    UPDATE tenants
    SET demo_session_id = adopt_demo_tenant.session_id,
        demo_expires_at = adopt_demo_tenant.expires_at,
        updated_at = now()
    WHERE id = tenant AND is_demo;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;
