-- The demo bakeries' calendar day (Europe/Madrid, the templates' time zone): a warm pool
-- clone belongs to the day its template was seeded for, and the templates move to a new
-- day at midnight in Madrid, not in UTC (crates/demo-session/src/templates.rs).
CREATE FUNCTION demo_today() RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT (now() AT TIME ZONE 'Europe/Madrid')::date $$;
