CREATE INDEX sales_sold_at_idx ON sales (tenant_id, sold_at);
DROP INDEX sales_keyset_idx;
