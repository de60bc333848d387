// Mirrors migrations/inventory. Kept by hand (no diesel CLI, so no libpq on build
// machines); `tests/tenancy.rs` (`the_schema_names_every_migrated_column`) checks every
// table and column name against the migrated database; the API and seed tests
// (`crates/demo-data/tests/seed.rs`) read and write the tables through it.

diesel::table! {
    suppliers (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        kind -> Text,
        contact_name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        city -> Nullable<Text>,
        lead_time_days -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ingredients (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        category -> Text,
        unit -> Text,
        unit_cost -> Numeric,
        reorder_point -> Numeric,
        reorder_quantity -> Numeric,
        allergens -> Array<Text>,
        supplier_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    products (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        kind -> Text,
        category -> Text,
        unit -> Text,
        sale_price -> Numeric,
        purchase_cost -> Nullable<Numeric>,
        supplier_id -> Nullable<Uuid>,
        shelf_life_days -> Int4,
        created_at -> Timestamptz,
        season_from -> Nullable<Text>,
        season_to -> Nullable<Text>,
    }
}

diesel::table! {
    stock_lots (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        ingredient_id -> Nullable<Uuid>,
        product_id -> Nullable<Uuid>,
        lot_code -> Text,
        quantity -> Numeric,
        initial_quantity -> Numeric,
        unit_cost -> Numeric,
        received_at -> Timestamptz,
        expires_at -> Nullable<Date>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    stock_movements (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        lot_id -> Nullable<Uuid>,
        ingredient_id -> Nullable<Uuid>,
        product_id -> Nullable<Uuid>,
        quantity_delta -> Numeric,
        reason -> Text,
        reference_id -> Nullable<Uuid>,
        note -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    recipes (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        product_id -> Uuid,
        name -> Text,
        yield_quantity -> Numeric,
        prep_minutes -> Int4,
        instructions -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    recipe_lines (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        recipe_id -> Uuid,
        ingredient_id -> Uuid,
        quantity -> Numeric,
    }
}

diesel::table! {
    production_batches (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        recipe_id -> Uuid,
        product_id -> Uuid,
        quantity -> Numeric,
        status -> Text,
        produced_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    purchase_orders (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        supplier_id -> Uuid,
        reference -> Text,
        status -> Text,
        source -> Text,
        ordered_at -> Timestamptz,
        expected_at -> Date,
        delivered_at -> Nullable<Timestamptz>,
        total -> Numeric,
        notes -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    purchase_order_lines (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        order_id -> Uuid,
        ingredient_id -> Nullable<Uuid>,
        product_id -> Nullable<Uuid>,
        quantity -> Numeric,
        unit_cost -> Numeric,
    }
}

diesel::table! {
    deliveries (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        order_id -> Uuid,
        status -> Text,
        carrier -> Text,
        tracking_code -> Nullable<Text>,
        eta -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sales (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        sold_at -> Timestamptz,
        channel -> Text,
        payment_method -> Text,
        total -> Numeric,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sale_lines (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        sale_id -> Uuid,
        product_id -> Uuid,
        quantity -> Numeric,
        unit_price -> Numeric,
        line_total -> Numeric,
    }
}

diesel::table! {
    forecast_models (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        product_id -> Uuid,
        algorithm -> Text,
        status -> Text,
        is_fake -> Bool,
        model_uri -> Nullable<Text>,
        metrics -> Jsonb,
        trained_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// Rows a demo session created per table (the demo row quota; written by a trigger).
    demo_row_usage (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        table_name -> Text,
        rows_created -> Int8,
    }
}

diesel::table! {
    /// Which template's sales history a virtual tenant reads besides its own (written by
    /// the cloner; see migrations/inventory/…_shared_history).
    history_shares (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        template_id -> Uuid,
        created_at -> Timestamptz,
    }
}

/// Calls `$callback!` with the model's tables in foreign-key order (parents first), then
/// `$extra`: the one list of them (the schema's joins, [`TABLES_IN_FK_ORDER`], the seed
/// jobs' inserts). `demo_row_usage`, written by a trigger, and `history_shares`, written by
/// the cloner, are not model tables.
#[macro_export]
macro_rules! model_tables {
    ($callback:ident $(, $extra:ident)* $(,)?) => {
        $callback! {
            suppliers,
            ingredients,
            products,
            stock_lots,
            stock_movements,
            recipes,
            recipe_lines,
            production_batches,
            purchase_orders,
            purchase_order_lines,
            deliveries,
            sales,
            sale_lines,
            forecast_models
            $(, $extra)*
        }
    };
}

use diesel::allow_tables_to_appear_in_same_query;
model_tables!(
    allow_tables_to_appear_in_same_query,
    demo_row_usage,
    history_shares
);

macro_rules! names_in_order {
    ($($table:ident),*) => {
        /// Every table in foreign-key order (parents first): the order cloning copies in
        /// and the reverse of the order cleanup deletes in.
        pub const TABLES_IN_FK_ORDER: [&str; 16] = [$(stringify!($table)),*];
    };
}
model_tables!(names_in_order, demo_row_usage, history_shares);
