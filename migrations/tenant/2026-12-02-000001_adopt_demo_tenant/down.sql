DROP FUNCTION adopt_demo_tenant(uuid, text, timestamptz);
