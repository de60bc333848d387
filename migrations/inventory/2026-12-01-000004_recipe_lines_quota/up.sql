-- PUT /api/recipes/{id} writes recipe lines: a demo session's new lines count against its
-- row quota like every other table inventory-service inserts into (…_demo_row_quota).
-- Lines whose ingredient stays are updated in place (INSERT … ON CONFLICT DO UPDATE), and
-- rows updated that way are not in the statement's NEW TABLE: only new lines count.
CREATE TRIGGER demo_row_quota AFTER INSERT ON recipe_lines
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION demo_row_quota();
