-- A seasonal product (roscón, huesos de santo, panellets) is on sale only on the days of
-- its season: `season_from` to `season_to`, days of the year as MM-DD, both included; a
-- season may run over New Year (12-20 to 01-06). Both or neither: without them the product
-- sells all year. The point of sale offers what is in season on the bakery's day.
-- (A day that does not exist, 02-30, fails the cast: refused as well.)
ALTER TABLE products
    ADD COLUMN season_from text
        CHECK (season_from IS NULL
               OR (season_from ~ '^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
                   AND ('2024-' || season_from)::date IS NOT NULL)),
    ADD COLUMN season_to text
        CHECK (season_to IS NULL
               OR (season_to ~ '^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
                   AND ('2024-' || season_to)::date IS NOT NULL)),
    ADD CONSTRAINT products_season_both_or_neither
        CHECK ((season_from IS NULL) = (season_to IS NULL));
