DROP FUNCTION app_all_tenants();
DROP FUNCTION app_current_tenant();
