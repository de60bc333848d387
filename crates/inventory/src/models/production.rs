//! Production batches: a batch of `quantity` units of a recipe's product consumes
//! `line quantity × quantity / yield_quantity` of each ingredient (rounded to 3 decimals),
//! first-expiring lots first, and creates one output lot of the product costed at what the
//! consumed lots cost. All in one transaction: a missing ingredient changes nothing.

use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::recipes::{self, RecipeView};
use crate::models::stock::{self, Movement, MovementReason, NewLot, StockItem};
use crate::models::{WriteScope, short_code};
use crate::pagination::{Page, Paginated};
use crate::schema::production_batches;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = production_batches, check_for_backend(diesel::pg::Pg))]
pub struct ProductionBatch {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub recipe_id: Uuid,
    pub product_id: Uuid,
    pub quantity: Decimal,
    pub status: String,
    pub produced_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/production/batches` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BatchRequest {
    pub recipe_id: Uuid,
    /// Units of the recipe's product to make: more than 0 (rounded to 3 decimals, so at
    /// least 0.001), at most 1000000.
    #[schema(minimum = 0.001, maximum = 1_000_000)]
    pub quantity: Decimal,
}

/// A validated batch order.
#[derive(Debug, Clone)]
pub struct BatchOrder {
    pub recipe_id: Uuid,
    pub quantity: Decimal,
}

impl TryFrom<BatchRequest> for BatchOrder {
    type Error = InventoryError;
    fn try_from(r: BatchRequest) -> Result<Self, InventoryError> {
        Ok(BatchOrder {
            recipe_id: r.recipe_id,
            quantity: stock::positive_quantity(r.quantity, "quantity")?,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Consumption {
    pub ingredient_id: Uuid,
    pub ingredient_name: String,
    pub quantity: Decimal,
    /// How many lots of the ingredient gave stock (a count: the answer does not grow with
    /// the number of lots).
    pub lots_touched: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchOutcome {
    #[serde(flatten)]
    pub batch: ProductionBatch,
    pub consumed: Vec<Consumption>,
    pub output_lot_id: Uuid,
    /// What one unit of this batch cost (consumed lots' cost / quantity).
    pub unit_cost: Decimal,
    /// The product's stock on hand after the batch.
    pub product_on_hand: Decimal,
}

/// One page of batches, newest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    page: Page,
) -> Result<Paginated<ProductionBatch>, InventoryError> {
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let total: i64 = production_batches::table
            .filter(production_batches::tenant_id.eq(tenant))
            .count()
            .get_result(c)
            .await?;
        let items = production_batches::table
            .filter(production_batches::tenant_id.eq(tenant))
            .order((
                production_batches::produced_at.desc(),
                production_batches::id.asc(),
            ))
            .limit(page.limit)
            .offset(page.offset)
            .select(ProductionBatch::as_select())
            .load(c)
            .await?;
        Ok(Paginated::new(items, page, total))
    })
    .await
}

/// Produces a batch (see the module docs).
pub async fn produce(
    conn: &mut AsyncPgConnection,
    scope: impl Into<WriteScope>,
    order: &BatchOrder,
) -> Result<BatchOutcome, InventoryError> {
    let scope = scope.into();
    let tenant = scope.tenant;
    conn.transaction(async |c| {
        scope.enter(c).await?;
        let recipe = recipes::find_in_tx(c, tenant, order.recipe_id)
            .await?
            .ok_or(InventoryError::UnknownReference("recipe"))?;
        let batch_id = Uuid::new_v4();
        let (consumed, cost) = consume_ingredients(c, tenant, batch_id, &recipe, order).await?;
        let now = Utc::now();
        let batch = ProductionBatch {
            tenant_id: tenant,
            id: batch_id,
            recipe_id: recipe.recipe.id,
            product_id: recipe.recipe.product_id,
            quantity: order.quantity,
            status: "completed".to_owned(),
            produced_at: now,
            created_at: now,
        };
        diesel::insert_into(production_batches::table)
            .values(&batch)
            .execute(c)
            .await?;
        let product = StockItem::Product(recipe.recipe.product_id);
        let unit_cost = (cost / order.quantity).round_dp(4);
        let output_lot_id = add_output_lot(c, &scope, &batch, unit_cost).await?;
        let product_on_hand = stock::on_hand(c, tenant, product).await?;
        Ok(BatchOutcome {
            batch,
            consumed,
            output_lot_id,
            unit_cost,
            product_on_hand,
        })
    })
    .await
}

/// The stock movements of batch `batch_id`, for `reason`.
fn batch_movement(batch_id: Uuid, reason: MovementReason) -> Movement<'static> {
    Movement {
        reason,
        reference_id: Some(batch_id),
        note: None,
    }
}

/// Takes what the batch needs of each of the recipe's ingredients, first-expiring lots
/// first; answers what it took and what the lots taken cost. Inside a scoped transaction,
/// which a short ingredient rolls back.
async fn consume_ingredients(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    batch_id: Uuid,
    recipe: &RecipeView,
    order: &BatchOrder,
) -> Result<(Vec<Consumption>, Decimal), InventoryError> {
    let factor = order.quantity / recipe.recipe.yield_quantity;
    // lines come ordered by ingredient id: concurrent batches lock lots in one order
    let mut consumed = Vec::new();
    let mut cost = Decimal::ZERO;
    for line in &recipe.lines {
        let need = (line.line.quantity * factor).round_dp(3);
        if need.is_zero() {
            continue;
        }
        let taken = stock::consume_fifo(
            c,
            tenant,
            StockItem::Ingredient(line.line.ingredient_id),
            &line.line.ingredient_name,
            need,
            batch_movement(batch_id, MovementReason::ProductionUse),
        )
        .await?;
        // the lots' own costs, summed by PostgreSQL in the take itself
        cost += taken.cost;
        consumed.push(Consumption {
            ingredient_id: line.line.ingredient_id,
            ingredient_name: line.line.ingredient_name.clone(),
            quantity: need,
            lots_touched: taken.lots_touched,
        });
    }
    Ok((consumed, cost))
}

/// The batch's output: one lot of its product at `unit_cost`, keeping as long as the
/// product's shelf life. Answers the lot's id. Inside a scoped transaction.
async fn add_output_lot(
    c: &mut AsyncPgConnection,
    scope: &WriteScope,
    batch: &ProductionBatch,
    unit_cost: Decimal,
) -> Result<Uuid, InventoryError> {
    let (tenant, today) = (scope.tenant, scope.today());
    let product = StockItem::Product(batch.product_id);
    let info = stock::describe(c, tenant, product).await?;
    stock::add_lot(
        c,
        tenant,
        &NewLot {
            item: product,
            lot_code: format!("PROD-{}-{}", today.format("%Y%m%d"), short_code()),
            quantity: batch.quantity,
            unit_cost,
            expires_at: info
                .shelf_life_days
                .map(|d| today + Duration::days(i64::from(d))),
        },
        batch_movement(batch.id, MovementReason::ProductionOutput),
    )
    .await
}
