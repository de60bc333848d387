DROP TRIGGER demo_row_quota ON recipe_lines;
