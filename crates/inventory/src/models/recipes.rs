//! Recipes with their lines and cost per unit.
//!
//! Cost of a batch = Σ line quantity × the ingredient's current `unit_cost`;
//! cost per unit = batch cost / `yield_quantity`, rounded to 4 decimals.

use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::group_by;
use crate::pagination::{Page, Paginated};
use crate::schema::{ingredients, products, recipe_lines, recipes};

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = recipes, check_for_backend(diesel::pg::Pg))]
pub struct Recipe {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub product_id: Uuid,
    pub name: String,
    pub yield_quantity: Decimal,
    pub prep_minutes: i32,
    pub instructions: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct RecipeLineView {
    #[serde(skip)]
    pub recipe_id: Uuid,
    pub ingredient_id: Uuid,
    pub ingredient_name: String,
    pub unit: String,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineCost {
    #[serde(flatten)]
    pub line: RecipeLineView,
    /// quantity × unit_cost
    pub line_cost: Decimal,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecipeView {
    #[serde(flatten)]
    pub recipe: Recipe,
    pub product_name: String,
    pub lines: Vec<LineCost>,
    /// Cost of one batch (`yield_quantity` units).
    pub batch_cost: Decimal,
    pub cost_per_unit: Decimal,
}

impl RecipeView {
    pub fn new(recipe: Recipe, product_name: String, lines: Vec<RecipeLineView>) -> Self {
        let lines: Vec<LineCost> = lines
            .into_iter()
            .map(|line| LineCost {
                line_cost: (line.quantity * line.unit_cost).round_dp(4),
                line,
            })
            .collect();
        let batch_cost: Decimal = lines
            .iter()
            .map(|l| l.line.quantity * l.line.unit_cost)
            .sum();
        let cost_per_unit = if recipe.yield_quantity.is_zero() {
            Decimal::ZERO
        } else {
            (batch_cost / recipe.yield_quantity).round_dp(4)
        };
        RecipeView {
            batch_cost: batch_cost.round_dp(4),
            cost_per_unit,
            product_name,
            lines,
            recipe,
        }
    }
}

/// Lines of `recipe_ids` with their ingredients, by ingredient id. Inside a scoped
/// transaction.
pub async fn lines_of(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    recipe_ids: &[Uuid],
) -> Result<Vec<RecipeLineView>, InventoryError> {
    Ok(recipe_lines::table
        .inner_join(
            ingredients::table.on(ingredients::tenant_id
                .eq(recipe_lines::tenant_id)
                .and(ingredients::id.eq(recipe_lines::ingredient_id))),
        )
        .filter(recipe_lines::tenant_id.eq(tenant))
        .filter(recipe_lines::recipe_id.eq_any(recipe_ids))
        .order((recipe_lines::recipe_id, ingredients::id))
        .select((
            recipe_lines::recipe_id,
            ingredients::id,
            ingredients::name,
            ingredients::unit,
            recipe_lines::quantity,
            ingredients::unit_cost,
        ))
        .load(conn)
        .await?)
}

type RecipeRow = (Recipe, String);

/// `recipes JOIN products` on the composite key.
macro_rules! recipes_with_product {
    () => {
        recipes::table.inner_join(
            products::table.on(products::tenant_id
                .eq(recipes::tenant_id)
                .and(products::id.eq(recipes::product_id))),
        )
    };
}

async fn assemble(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    rows: Vec<RecipeRow>,
) -> Result<Vec<RecipeView>, InventoryError> {
    let ids: Vec<Uuid> = rows.iter().map(|(r, _)| r.id).collect();
    let mut by_recipe = group_by(lines_of(c, tenant, &ids).await?, |l| l.recipe_id);
    Ok(rows
        .into_iter()
        .map(|(r, product_name)| {
            let lines = by_recipe.remove(&r.id).unwrap_or_default();
            RecipeView::new(r, product_name, lines)
        })
        .collect())
}

/// One page of recipes by name, with lines and costs.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    page: Page,
) -> Result<Paginated<RecipeView>, InventoryError> {
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let total: i64 = recipes::table
            .filter(recipes::tenant_id.eq(tenant))
            .count()
            .get_result(c)
            .await?;
        let rows: Vec<RecipeRow> = recipes_with_product!()
            .filter(recipes::tenant_id.eq(tenant))
            .order((recipes::name.asc(), recipes::id.asc()))
            .limit(page.limit)
            .offset(page.offset)
            .select((Recipe::as_select(), products::name))
            .load(c)
            .await?;
        let items = assemble(c, tenant, rows).await?;
        Ok(Paginated::new(items, page, total))
    })
    .await
}

/// One recipe with lines and costs. Inside a scoped transaction.
pub async fn find_in_tx(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<RecipeView>, InventoryError> {
    let row: Option<RecipeRow> = recipes_with_product!()
        .filter(recipes::tenant_id.eq(tenant))
        .filter(recipes::id.eq(id))
        .select((Recipe::as_select(), products::name))
        .first(c)
        .await
        .optional()?;
    match row {
        None => Ok(None),
        Some(row) => Ok(assemble(c, tenant, vec![row]).await?.pop()),
    }
}
