//! Products (finished and par-baked goods), with stock on hand.

use std::collections::HashMap;

use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::error::InventoryError;
use crate::pagination::{Page, Paginated};
use crate::schema::{products, stock_lots};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
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
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    #[serde(flatten)]
    pub product: Product,
    /// Sum of the product's lots.
    pub on_hand: Decimal,
}

/// Stock on hand of each of `ids`. Inside a scoped transaction.
pub async fn on_hand_of(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Decimal>, InventoryError> {
    let rows: Vec<(Option<Uuid>, Option<Decimal>)> = stock_lots::table
        .filter(stock_lots::tenant_id.eq(tenant))
        .filter(stock_lots::product_id.eq_any(ids))
        .group_by(stock_lots::product_id)
        .select((
            stock_lots::product_id,
            diesel::dsl::sum(stock_lots::quantity),
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, sum)| Some((id?, sum.unwrap_or_default())))
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
        let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
        let stock = on_hand_of(c, tenant, &ids).await?;
        let items = rows
            .into_iter()
            .map(|p| ProductView {
                on_hand: stock.get(&p.id).copied().unwrap_or_default(),
                product: p,
            })
            .collect();
        Ok(Paginated::new(items, page, total))
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
    let Some(product) = product else {
        return Ok(None);
    };
    let stock = on_hand_of(c, tenant, &[id]).await?;
    Ok(Some(ProductView {
        on_hand: stock.get(&id).copied().unwrap_or_default(),
        product,
    }))
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
