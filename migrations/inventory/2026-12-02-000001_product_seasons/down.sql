ALTER TABLE products
    DROP CONSTRAINT products_season_both_or_neither,
    DROP COLUMN season_to,
    DROP COLUMN season_from;
