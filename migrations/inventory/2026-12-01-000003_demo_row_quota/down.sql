DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ingredients', 'stock_lots', 'stock_movements', 'production_batches',
                             'purchase_orders', 'purchase_order_lines', 'sales', 'sale_lines']
    LOOP
        EXECUTE format('DROP TRIGGER demo_row_quota ON %I', t);
    END LOOP;
END $$;
DROP FUNCTION demo_row_quota();
DROP TABLE demo_row_usage;
