DROP TABLE warm_tenants;
