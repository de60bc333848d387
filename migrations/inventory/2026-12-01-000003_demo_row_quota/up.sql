-- Demo row quota: a demo session may create at most `app.demo_row_quota` rows in each
-- table (see docs/tenancy.md, "Demo quotas"). inventory-service sets that setting, for the
-- transaction only, on writes of demo identities; nothing else sets it (customers, seeding,
-- cloning, cleanup), so for them the trigger returns at once.
--
-- O(1) per write: one statement-level trigger per INSERT statement, whatever its row
-- count, and one upsert per table written. The counter only grows (rows deleted later
-- still count: creating is what costs), and it is a tenant-owned table like the others,
-- so the cloner and cleanup copy and delete it with the rest of a virtual tenant.

-- Keyed (tenant_id, id) like every tenant-owned table (docs/tenancy.md); one row per
-- tenant and table.
CREATE TABLE demo_row_usage (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    table_name   text NOT NULL,
    rows_created bigint NOT NULL DEFAULT 0 CHECK (rows_created >= 0),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, table_name)
);

ALTER TABLE demo_row_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE demo_row_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON demo_row_usage
    USING (app_all_tenants() OR tenant_id = app_current_tenant())
    WITH CHECK (app_all_tenants() OR tenant_id = app_current_tenant());

-- Counts the statement's new rows (REFERENCING NEW TABLE AS new_rows) per tenant and
-- refuses the statement once a tenant's count for this table passes the quota. The error
-- is a check_violation on the constraint name `demo_row_quota`, which inventory-service
-- answers `429 demo_quota`; the statement, and so the whole transaction, changes nothing.
CREATE FUNCTION demo_row_quota() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    quota bigint := NULLIF(current_setting('app.demo_row_quota', true), '')::bigint;
    added record;
    used bigint;
BEGIN
    IF quota IS NULL THEN
        RETURN NULL;
    END IF;
    FOR added IN SELECT tenant_id, count(*) AS n FROM new_rows GROUP BY tenant_id LOOP
        INSERT INTO demo_row_usage AS u (tenant_id, table_name, rows_created)
        VALUES (added.tenant_id, TG_TABLE_NAME, added.n)
        ON CONFLICT (tenant_id, table_name)
            DO UPDATE SET rows_created = u.rows_created + EXCLUDED.rows_created
        RETURNING u.rows_created INTO used;
        IF used > quota THEN
            RAISE EXCEPTION 'demo row quota of % rows reached for %', quota, TG_TABLE_NAME
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'demo_row_quota',
                      TABLE = TG_TABLE_NAME;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- Every table a write of inventory-service inserts into (see docs/tenancy.md): a new
-- write path into another table needs its trigger here too.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ingredients', 'stock_lots', 'stock_movements', 'production_batches',
                             'purchase_orders', 'purchase_order_lines', 'sales', 'sale_lines']
    LOOP
        EXECUTE format('CREATE TRIGGER demo_row_quota AFTER INSERT ON %I
                            REFERENCING NEW TABLE AS new_rows
                            FOR EACH STATEMENT EXECUTE FUNCTION demo_row_quota()', t);
    END LOOP;
END $$;
