//! The OpenAPI document of inventory-service's routes (the gateway merges it into
//! `GET /api/openapi.json`). `tests/api/openapi.rs` checks it against the route table.

use bakery_config::openapi::CommonErrors;
use utoipa::OpenApi;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use crate::routes::{forecasts, inventory, production, products, purchasing, sales};

#[derive(OpenApi)]
#[openapi(
    paths(
        inventory::list_ingredients,
        inventory::create_ingredient,
        inventory::get_ingredient,
        inventory::update_ingredient,
        inventory::delete_ingredient,
        inventory::list_lots,
        inventory::adjust,
        products::list_products,
        products::get_product,
        products::list_recipes,
        products::update_recipe,
        production::list_batches,
        production::create_batch,
        purchasing::list_suppliers,
        purchasing::list_orders,
        purchasing::create_order,
        sales::list_sales,
        sales::sales_summary,
        sales::create_sale,
        forecasts::list_models,
        forecasts::get_forecast,
    ),
    components(schemas(bakery_config::http::ErrorBody)),
    modifiers(&CommonErrors),
    tags(
        (name = "ingredients", description = "Ingredients (inventory-service)"),
        (name = "stock", description = "Stock lots and adjustments (inventory-service)"),
        (name = "products", description = "Products and recipes (inventory-service)"),
        (name = "production", description = "Production batches (inventory-service)"),
        (name = "purchasing", description = "Suppliers and purchase orders (inventory-service)"),
        (name = "sales", description = "Sales and the point of sale (inventory-service)"),
        (name = "forecasts", description = "Demand forecasts (inventory-service; never for demo sessions)"),
    )
)]
pub struct ApiDoc;

/// The document, as of today: an order's `expected_at` is bounded by a window that moves
/// with the day (`purchasing::expected_at_window`), written in as a pattern.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut api = ApiDoc::openapi();
    let expected_at = api
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("OrderRequest"))
        .and_then(|s| match s {
            RefOr::T(Schema::Object(o)) => o.properties.get_mut("expected_at"),
            _ => None,
        });
    if let Some(RefOr::T(Schema::Object(field))) = expected_at {
        field.pattern = Some(crate::models::purchasing::expected_at_pattern(
            crate::models::BakeryTimeZone::default().today(),
        ));
    }
    api
}
