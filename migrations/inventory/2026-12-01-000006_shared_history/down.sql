DROP POLICY shared_history ON sale_lines;
DROP POLICY shared_history ON sales;
DROP FUNCTION app_shared_history_tenant();
DROP TABLE history_shares;
