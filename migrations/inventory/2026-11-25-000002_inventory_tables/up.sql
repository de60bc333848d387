-- Every table is tenant-owned: primary key (tenant_id, id), composite foreign keys
-- (tenant_id, x_id) so a row can only point at rows of its own tenant, and every index
-- starts with tenant_id. See docs/tenancy.md.

CREATE TABLE suppliers (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind           text NOT NULL CHECK (kind IN ('central_baker', 'wholesaler', 'local_producer')),
    contact_name   text,
    email          text,
    phone          text,
    city           text,
    lead_time_days integer NOT NULL DEFAULT 1 CHECK (lead_time_days BETWEEN 0 AND 90),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE ingredients (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    category         text NOT NULL DEFAULT 'otros',
    unit             text NOT NULL CHECK (unit IN ('kg', 'g', 'l', 'ml', 'unidad')),
    unit_cost        numeric(12, 4) NOT NULL CHECK (unit_cost >= 0),
    reorder_point    numeric(12, 3) NOT NULL DEFAULT 0 CHECK (reorder_point >= 0),
    reorder_quantity numeric(12, 3) NOT NULL DEFAULT 0 CHECK (reorder_quantity >= 0),
    allergens        text[] NOT NULL DEFAULT '{}',
    supplier_id      uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, id)
);
CREATE INDEX ingredients_supplier_idx ON ingredients (tenant_id, supplier_id);

CREATE TABLE products (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind            text NOT NULL CHECK (kind IN ('finished', 'par_baked')),
    category        text NOT NULL DEFAULT 'pan',
    unit            text NOT NULL DEFAULT 'unidad' CHECK (unit IN ('kg', 'unidad')),
    sale_price      numeric(10, 2) NOT NULL CHECK (sale_price >= 0),
    -- what one unit costs to buy (par-baked from a central baker); recipes cost the rest
    purchase_cost   numeric(12, 4) CHECK (purchase_cost >= 0),
    supplier_id     uuid,
    shelf_life_days integer NOT NULL DEFAULT 1 CHECK (shelf_life_days BETWEEN 0 AND 365),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, id)
);
CREATE INDEX products_supplier_idx ON products (tenant_id, supplier_id);

CREATE TABLE stock_lots (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    ingredient_id    uuid,
    product_id       uuid,
    lot_code         text NOT NULL,
    quantity         numeric(12, 3) NOT NULL CHECK (quantity >= 0),
    initial_quantity numeric(12, 3) NOT NULL CHECK (initial_quantity >= 0),
    unit_cost        numeric(12, 4) NOT NULL DEFAULT 0 CHECK (unit_cost >= 0),
    received_at      timestamptz NOT NULL,
    expires_at       date,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT stock_lots_one_item CHECK (num_nonnulls(ingredient_id, product_id) = 1),
    FOREIGN KEY (tenant_id, ingredient_id) REFERENCES ingredients (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX stock_lots_ingredient_idx ON stock_lots (tenant_id, ingredient_id, expires_at);
CREATE INDEX stock_lots_product_idx ON stock_lots (tenant_id, product_id, expires_at);

CREATE TABLE stock_movements (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL,
    lot_id         uuid,
    ingredient_id  uuid,
    product_id     uuid,
    quantity_delta numeric(12, 3) NOT NULL CHECK (quantity_delta <> 0),
    reason         text NOT NULL CHECK (reason IN ('sale', 'production_use', 'production_output', 'waste',
                                                   'count_correction', 'delivery', 'expired', 'other')),
    reference_id   uuid,
    note           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT stock_movements_one_item CHECK (num_nonnulls(ingredient_id, product_id) = 1),
    FOREIGN KEY (tenant_id, lot_id) REFERENCES stock_lots (tenant_id, id) ON DELETE SET NULL (lot_id),
    FOREIGN KEY (tenant_id, ingredient_id) REFERENCES ingredients (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX stock_movements_created_idx ON stock_movements (tenant_id, created_at);
CREATE INDEX stock_movements_lot_idx ON stock_movements (tenant_id, lot_id);
CREATE INDEX stock_movements_ingredient_idx ON stock_movements (tenant_id, ingredient_id);
CREATE INDEX stock_movements_product_idx ON stock_movements (tenant_id, product_id);

CREATE TABLE recipes (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL,
    product_id     uuid NOT NULL,
    name           text NOT NULL,
    yield_quantity numeric(12, 3) NOT NULL CHECK (yield_quantity > 0),
    prep_minutes   integer NOT NULL DEFAULT 0 CHECK (prep_minutes >= 0),
    instructions   text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, product_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE recipe_lines (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    recipe_id     uuid NOT NULL,
    ingredient_id uuid NOT NULL,
    quantity      numeric(12, 4) NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, recipe_id, ingredient_id),
    FOREIGN KEY (tenant_id, recipe_id) REFERENCES recipes (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ingredient_id) REFERENCES ingredients (tenant_id, id)
);
CREATE INDEX recipe_lines_ingredient_idx ON recipe_lines (tenant_id, ingredient_id);

CREATE TABLE production_batches (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL,
    recipe_id   uuid NOT NULL,
    product_id  uuid NOT NULL,
    quantity    numeric(12, 3) NOT NULL CHECK (quantity > 0),
    status      text NOT NULL CHECK (status IN ('planned', 'completed', 'cancelled')),
    produced_at timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, recipe_id) REFERENCES recipes (tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE INDEX production_batches_produced_idx ON production_batches (tenant_id, produced_at);

CREATE TABLE purchase_orders (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL,
    supplier_id  uuid NOT NULL,
    reference    text NOT NULL,
    status       text NOT NULL CHECK (status IN ('draft', 'pending', 'in_transit', 'delivered', 'cancelled')),
    source       text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'procurement')),
    ordered_at   timestamptz NOT NULL,
    expected_at  date NOT NULL,
    delivered_at timestamptz,
    total        numeric(12, 2) NOT NULL DEFAULT 0 CHECK (total >= 0),
    notes        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, reference),
    FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, id)
);
CREATE INDEX purchase_orders_status_idx ON purchase_orders (tenant_id, status, expected_at);
CREATE INDEX purchase_orders_supplier_idx ON purchase_orders (tenant_id, supplier_id);

CREATE TABLE purchase_order_lines (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    order_id      uuid NOT NULL,
    ingredient_id uuid,
    product_id    uuid,
    quantity      numeric(12, 3) NOT NULL CHECK (quantity > 0),
    unit_cost     numeric(12, 4) NOT NULL CHECK (unit_cost >= 0),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT purchase_order_lines_one_item CHECK (num_nonnulls(ingredient_id, product_id) = 1),
    FOREIGN KEY (tenant_id, order_id) REFERENCES purchase_orders (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, ingredient_id) REFERENCES ingredients (tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE INDEX purchase_order_lines_order_idx ON purchase_order_lines (tenant_id, order_id);

CREATE TABLE deliveries (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    order_id      uuid NOT NULL,
    status        text NOT NULL CHECK (status IN ('scheduled', 'in_transit', 'delivered', 'failed')),
    carrier       text NOT NULL DEFAULT '',
    tracking_code text,
    eta           timestamptz NOT NULL,
    delivered_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES purchase_orders (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX deliveries_order_idx ON deliveries (tenant_id, order_id);

CREATE TABLE sales (
    tenant_id      uuid NOT NULL,
    id             uuid NOT NULL,
    sold_at        timestamptz NOT NULL,
    channel        text NOT NULL DEFAULT 'pos' CHECK (channel IN ('pos', 'online', 'wholesale')),
    payment_method text NOT NULL DEFAULT 'card' CHECK (payment_method IN ('cash', 'card', 'bizum', 'other')),
    total          numeric(12, 2) NOT NULL CHECK (total >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sales_sold_at_idx ON sales (tenant_id, sold_at);

CREATE TABLE sale_lines (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL,
    sale_id    uuid NOT NULL,
    product_id uuid NOT NULL,
    quantity   numeric(12, 3) NOT NULL CHECK (quantity > 0),
    unit_price numeric(10, 2) NOT NULL CHECK (unit_price >= 0),
    line_total numeric(12, 2) NOT NULL CHECK (line_total >= 0),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, sale_id) REFERENCES sales (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE INDEX sale_lines_sale_idx ON sale_lines (tenant_id, sale_id);
CREATE INDEX sale_lines_product_idx ON sale_lines (tenant_id, product_id);

CREATE TABLE forecast_models (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL,
    product_id uuid NOT NULL,
    algorithm  text NOT NULL,
    status     text NOT NULL DEFAULT 'trained' CHECK (status IN ('training', 'trained', 'failed')),
    -- demo records: "models trained" with no model file behind them
    is_fake    boolean NOT NULL DEFAULT false,
    model_uri  text,
    metrics    jsonb NOT NULL DEFAULT '{}',
    trained_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT forecast_models_fake_has_no_file CHECK (NOT is_fake OR model_uri IS NULL),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX forecast_models_product_idx ON forecast_models (tenant_id, product_id);

-- Row-level security on every table, forced for the owner too.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['suppliers', 'ingredients', 'products', 'stock_lots', 'stock_movements',
                             'recipes', 'recipe_lines', 'production_batches', 'purchase_orders',
                             'purchase_order_lines', 'deliveries', 'sales', 'sale_lines', 'forecast_models']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I
                            USING (app_all_tenants() OR tenant_id = app_current_tenant())
                            WITH CHECK (app_all_tenants() OR tenant_id = app_current_tenant())', t);
    END LOOP;
END $$;
