-- GET /api/sales pages newest first by (sold_at, id) and continues after a cursor of the
-- same pair: one index, read backwards, serves the date range, the order and the cursor
-- (the tie on sold_at no longer needs a sort). It replaces the index on (tenant_id, sold_at),
-- whose every use it covers.
CREATE INDEX sales_keyset_idx ON sales (tenant_id, sold_at, id);
DROP INDEX sales_sold_at_idx;
