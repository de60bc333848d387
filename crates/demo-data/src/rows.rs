//! One row type per inventory table: what the generator produces, what the seed inserts
//! and what it reads back to decide whether a template already holds exactly these rows.
//! `created_at` / `updated_at` are left to the database and are not compared.

use bakery_config::clock::MonthDay;
use bakery_inventory::schema::{
    deliveries, forecast_models, ingredients, production_batches, products, purchase_order_lines,
    purchase_orders, recipe_lines, recipes, sale_lines, sales, stock_lots, stock_movements,
    suppliers,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

macro_rules! row {
    ($(#[$meta:meta])* $name:ident => $table:ident { $($field:ident: $ty:ty),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Insertable, Queryable, Selectable)]
        #[diesel(table_name = $table, check_for_backend(diesel::pg::Pg))]
        pub struct $name {
            pub tenant_id: Uuid,
            pub id: Uuid,
            $(pub $field: $ty),+
        }

        impl $name {
            /// Columns an INSERT of one row binds (the seed's chunks stay under
            /// PostgreSQL's 65,535 bind parameters).
            pub const COLUMNS: usize = 2 $(+ { let _ = stringify!($field); 1 })+;
        }
    };
}

row!(Supplier => suppliers {
    name: String,
    kind: String,
    contact_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    city: Option<String>,
    lead_time_days: i32,
});

row!(Ingredient => ingredients {
    name: String,
    category: String,
    unit: String,
    unit_cost: Decimal,
    reorder_point: Decimal,
    reorder_quantity: Decimal,
    allergens: Vec<String>,
    supplier_id: Option<Uuid>,
});

row!(Product => products {
    name: String,
    kind: String,
    category: String,
    unit: String,
    sale_price: Decimal,
    purchase_cost: Option<Decimal>,
    supplier_id: Option<Uuid>,
    shelf_life_days: i32,
    season_from: Option<MonthDay>,
    season_to: Option<MonthDay>,
});

row!(StockLot => stock_lots {
    ingredient_id: Option<Uuid>,
    product_id: Option<Uuid>,
    lot_code: String,
    quantity: Decimal,
    initial_quantity: Decimal,
    unit_cost: Decimal,
    received_at: DateTime<Utc>,
    expires_at: Option<NaiveDate>,
});

row!(StockMovement => stock_movements {
    lot_id: Option<Uuid>,
    ingredient_id: Option<Uuid>,
    product_id: Option<Uuid>,
    quantity_delta: Decimal,
    reason: String,
    reference_id: Option<Uuid>,
    note: Option<String>,
    created_at: DateTime<Utc>,
});

row!(Recipe => recipes {
    product_id: Uuid,
    name: String,
    yield_quantity: Decimal,
    prep_minutes: i32,
    instructions: String,
});

row!(RecipeLine => recipe_lines {
    recipe_id: Uuid,
    ingredient_id: Uuid,
    quantity: Decimal,
});

row!(ProductionBatch => production_batches {
    recipe_id: Uuid,
    product_id: Uuid,
    quantity: Decimal,
    status: String,
    produced_at: DateTime<Utc>,
});

row!(PurchaseOrder => purchase_orders {
    supplier_id: Uuid,
    reference: String,
    status: String,
    source: String,
    ordered_at: DateTime<Utc>,
    expected_at: NaiveDate,
    delivered_at: Option<DateTime<Utc>>,
    total: Decimal,
    notes: String,
});

row!(PurchaseOrderLine => purchase_order_lines {
    order_id: Uuid,
    ingredient_id: Option<Uuid>,
    product_id: Option<Uuid>,
    quantity: Decimal,
    unit_cost: Decimal,
});

row!(Delivery => deliveries {
    order_id: Uuid,
    status: String,
    carrier: String,
    tracking_code: Option<String>,
    eta: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
});

row!(Sale => sales {
    sold_at: DateTime<Utc>,
    channel: String,
    payment_method: String,
    total: Decimal,
});

row!(SaleLine => sale_lines {
    sale_id: Uuid,
    product_id: Uuid,
    quantity: Decimal,
    unit_price: Decimal,
    line_total: Decimal,
});

row!(ForecastModel => forecast_models {
    product_id: Uuid,
    algorithm: String,
    status: String,
    is_fake: bool,
    model_uri: Option<String>,
    metrics: serde_json::Value,
    trained_at: DateTime<Utc>,
});

/// Every inventory row of one template tenant, each table sorted by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventoryRows {
    pub suppliers: Vec<Supplier>,
    pub ingredients: Vec<Ingredient>,
    pub products: Vec<Product>,
    pub stock_lots: Vec<StockLot>,
    pub stock_movements: Vec<StockMovement>,
    pub recipes: Vec<Recipe>,
    pub recipe_lines: Vec<RecipeLine>,
    pub production_batches: Vec<ProductionBatch>,
    pub purchase_orders: Vec<PurchaseOrder>,
    pub purchase_order_lines: Vec<PurchaseOrderLine>,
    pub deliveries: Vec<Delivery>,
    pub sales: Vec<Sale>,
    pub sale_lines: Vec<SaleLine>,
    pub forecast_models: Vec<ForecastModel>,
}

impl InventoryRows {
    /// Rows in every table together.
    pub fn len(&self) -> usize {
        self.suppliers.len()
            + self.ingredients.len()
            + self.products.len()
            + self.stock_lots.len()
            + self.stock_movements.len()
            + self.recipes.len()
            + self.recipe_lines.len()
            + self.production_batches.len()
            + self.purchase_orders.len()
            + self.purchase_order_lines.len()
            + self.deliveries.len()
            + self.sales.len()
            + self.sale_lines.len()
            + self.forecast_models.len()
    }

    /// Rows outside `sales` and `sale_lines`: what stays small (a few thousand), since
    /// sessions copy it; the till's tickets are the bulk of a template.
    pub fn len_without_sales(&self) -> usize {
        self.len() - self.sales.len() - self.sale_lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorts every table by id, the order the seed reads rows back in.
    pub fn sort(&mut self) {
        self.suppliers.sort_by_key(|r| r.id);
        self.ingredients.sort_by_key(|r| r.id);
        self.products.sort_by_key(|r| r.id);
        self.stock_lots.sort_by_key(|r| r.id);
        self.stock_movements.sort_by_key(|r| r.id);
        self.recipes.sort_by_key(|r| r.id);
        self.recipe_lines.sort_by_key(|r| r.id);
        self.production_batches.sort_by_key(|r| r.id);
        self.purchase_orders.sort_by_key(|r| r.id);
        self.purchase_order_lines.sort_by_key(|r| r.id);
        self.deliveries.sort_by_key(|r| r.id);
        self.sales.sort_by_key(|r| r.id);
        self.sale_lines.sort_by_key(|r| r.id);
        self.forecast_models.sort_by_key(|r| r.id);
    }
}
