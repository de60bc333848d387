DROP FUNCTION demo_today();
