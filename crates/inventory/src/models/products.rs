//! Products (finished and par-baked goods), with stock on hand.

use bakery_config::clock::{MonthDay, Season};
use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::stock::{self, ItemKind};
use crate::pagination::{Page, Paginated};
use crate::schema::products;

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct Product {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub category: String,
    pub unit: String,
    pub sale_price: Decimal,
    pub purchase_cost: Option<Decimal>,
    pub supplier_id: Option<Uuid>,
    pub shelf_life_days: i32,
    pub created_at: DateTime<Utc>,
    /// Read into [`ProductView::season`].
    #[serde(skip)]
    pub season_from: Option<MonthDay>,
    #[serde(skip)]
    pub season_to: Option<MonthDay>,
}

impl Product {
    /// The days of the year it is on sale; `None`: all year.
    pub fn season(&self) -> Option<Season> {
        Some(Season {
            from: self.season_from?,
            to: self.season_to?,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    #[serde(flatten)]
    pub product: Product,
    /// Sum of the product's lots.
    pub on_hand: Decimal,
    /// A seasonal product (roscón, huesos de santo…) is on sale only from `from` to `to`
    /// (days of the year, both included; it may run over New Year); `null`: all year. The
    /// point of sale offers it on the days of the bakery's calendar in its season.
    pub season: Option<Season>,
}

/// The products with their stock on hand. Inside a scoped transaction.
async fn views(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    rows: Vec<Product>,
) -> Result<Vec<ProductView>, InventoryError> {
    let rows = stock::with_on_hand(c, tenant, ItemKind::Product, rows, |p| p.id).await?;
    Ok(rows
        .into_iter()
        .map(|(product, on_hand)| ProductView {
            season: product.season(),
            product,
            on_hand,
        })
        .collect())
}

/// One page of products by name.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    page: Page,
) -> Result<Paginated<ProductView>, InventoryError> {
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let total: i64 = products::table
            .filter(products::tenant_id.eq(tenant))
            .count()
            .get_result(c)
            .await?;
        let rows: Vec<Product> = products::table
            .filter(products::tenant_id.eq(tenant))
            .order((products::name.asc(), products::id.asc()))
            .limit(page.limit)
            .offset(page.offset)
            .select(Product::as_select())
            .load(c)
            .await?;
        Ok(Paginated::new(views(c, tenant, rows).await?, page, total))
    })
    .await
}

/// One product. Inside a scoped transaction.
pub async fn find_in_tx(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<ProductView>, InventoryError> {
    let product: Option<Product> = products::table
        .filter(products::tenant_id.eq(tenant))
        .filter(products::id.eq(id))
        .select(Product::as_select())
        .first(c)
        .await
        .optional()?;
    match product {
        None => Ok(None),
        Some(product) => Ok(views(c, tenant, vec![product]).await?.pop()),
    }
}

/// One product, or `product_not_found`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<ProductView, InventoryError> {
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        find_in_tx(c, tenant, id)
            .await?
            .ok_or(InventoryError::NotFound("product"))
    })
    .await
}
