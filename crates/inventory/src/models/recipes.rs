//! Recipes with their lines and cost per unit.
//!
//! Cost of a batch = Σ line quantity × the ingredient's current `unit_cost`;
//! cost per unit = batch cost / `yield_quantity`, rounded to 4 decimals.

use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::stock::MAX_QUANTITY;
use crate::models::{WriteScope, group_by, storable_text};
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

/// The most lines a recipe may have (the templates' longest has 9).
pub const MAX_RECIPE_LINES: usize = 40;
/// The longest preparation time a recipe may state, in minutes (two days).
pub const MAX_PREP_MINUTES: i32 = 2 * 24 * 60;
/// The longest instructions, in characters.
pub const MAX_INSTRUCTIONS: usize = 4000;

/// `PUT /api/recipes/{id}`: the whole recipe as it should be — the yield, the lines, and
/// optionally the preparation time and instructions (kept when absent). The product and
/// the name stay.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipeInput {
    /// Units one batch makes: more than 0.
    #[schema(minimum = 0.001, maximum = 1_000_000)]
    pub yield_quantity: Decimal,
    #[schema(minimum = 0, maximum = 2880)]
    pub prep_minutes: Option<i32>,
    #[schema(max_length = 4000, pattern = r"^[^\x00]*$")]
    pub instructions: Option<String>,
    /// 1 to 40 lines, one per ingredient.
    #[schema(min_items = 1, max_items = 40)]
    pub lines: Vec<RecipeLineInput>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipeLineInput {
    pub ingredient_id: Uuid,
    /// In the ingredient's unit, per batch: more than 0.
    #[schema(minimum = 0.0001, maximum = 1_000_000)]
    pub quantity: Decimal,
}

/// A checked [`RecipeInput`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecipeChange {
    yield_quantity: Decimal,
    prep_minutes: Option<i32>,
    instructions: Option<String>,
    /// `(ingredient, quantity)`, one per ingredient.
    lines: Vec<(Uuid, Decimal)>,
}

impl TryFrom<RecipeInput> for RecipeChange {
    type Error = InventoryError;

    fn try_from(input: RecipeInput) -> Result<Self, InventoryError> {
        let invalid = |m: &str| InventoryError::Invalid(m.to_owned());
        let yield_quantity = input.yield_quantity.round_dp(3);
        if yield_quantity <= Decimal::ZERO || yield_quantity > MAX_QUANTITY {
            return Err(invalid(&format!(
                "yield_quantity debe ser mayor que 0 y como mucho {MAX_QUANTITY}"
            )));
        }
        if let Some(m) = input.prep_minutes
            && !(0..=MAX_PREP_MINUTES).contains(&m)
        {
            return Err(invalid(&format!(
                "prep_minutes debe estar entre 0 y {MAX_PREP_MINUTES}"
            )));
        }
        if let Some(text) = &input.instructions {
            storable_text(text, "instructions")?;
            if text.chars().count() > MAX_INSTRUCTIONS {
                return Err(invalid(&format!(
                    "instructions admite como mucho {MAX_INSTRUCTIONS} caracteres"
                )));
            }
        }
        if input.lines.is_empty() || input.lines.len() > MAX_RECIPE_LINES {
            return Err(invalid(&format!(
                "lines debe tener entre 1 y {MAX_RECIPE_LINES} líneas"
            )));
        }
        let mut lines = Vec::with_capacity(input.lines.len());
        for line in input.lines {
            let quantity = line.quantity.round_dp(4);
            if quantity <= Decimal::ZERO || quantity > MAX_QUANTITY {
                return Err(invalid(&format!(
                    "quantity debe ser mayor que 0 y como mucho {MAX_QUANTITY}"
                )));
            }
            if lines.iter().any(|(i, _)| *i == line.ingredient_id) {
                return Err(invalid("cada ingrediente puede aparecer una sola vez"));
            }
            lines.push((line.ingredient_id, quantity));
        }
        Ok(RecipeChange {
            yield_quantity,
            prep_minutes: input.prep_minutes,
            instructions: input.instructions.map(|t| t.trim().to_owned()),
            lines,
        })
    }
}

/// The recipe's own columns a change sets (`None`: left as they are).
#[derive(AsChangeset)]
#[diesel(table_name = recipes)]
struct RecipeChangeset<'a> {
    yield_quantity: Decimal,
    prep_minutes: Option<i32>,
    instructions: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = recipe_lines)]
struct NewRecipeLine {
    tenant_id: Uuid,
    id: Uuid,
    recipe_id: Uuid,
    ingredient_id: Uuid,
    quantity: Decimal,
}

/// Changes a recipe in one transaction: its yield (and, when given, preparation time and
/// instructions), then its lines — a line whose ingredient is listed again keeps its row
/// and takes the new quantity, a listed ingredient that was not there gets a new line, the
/// rest go. Only new lines are new rows (what a demo's row quota counts). Answers the recipe
/// with its new costs.
pub async fn update(
    conn: &mut AsyncPgConnection,
    scope: impl Into<WriteScope>,
    id: Uuid,
    change: &RecipeChange,
) -> Result<RecipeView, InventoryError> {
    use diesel::upsert::excluded;

    let scope = scope.into();
    let tenant = scope.tenant;
    conn.transaction(async |c| {
        scope.enter(c).await?;
        let n = diesel::update(recipes::table.find((tenant, id)))
            .set(RecipeChangeset {
                yield_quantity: change.yield_quantity,
                prep_minutes: change.prep_minutes,
                instructions: change.instructions.as_deref(),
            })
            .execute(c)
            .await?;
        if n == 0 {
            return Err(InventoryError::NotFound("recipe"));
        }
        let ingredient_ids: Vec<Uuid> = change.lines.iter().map(|(i, _)| *i).collect();
        let known: i64 = ingredients::table
            .filter(ingredients::tenant_id.eq(tenant))
            .filter(ingredients::id.eq_any(&ingredient_ids))
            .count()
            .get_result(c)
            .await?;
        if usize::try_from(known).ok() != Some(ingredient_ids.len()) {
            return Err(InventoryError::UnknownReference("ingredient"));
        }
        diesel::delete(
            recipe_lines::table
                .filter(recipe_lines::tenant_id.eq(tenant))
                .filter(recipe_lines::recipe_id.eq(id))
                .filter(diesel::dsl::not(
                    recipe_lines::ingredient_id.eq_any(&ingredient_ids),
                )),
        )
        .execute(c)
        .await?;
        let rows: Vec<NewRecipeLine> = change
            .lines
            .iter()
            .map(|&(ingredient_id, quantity)| NewRecipeLine {
                tenant_id: tenant,
                id: Uuid::new_v4(),
                recipe_id: id,
                ingredient_id,
                quantity,
            })
            .collect();
        diesel::insert_into(recipe_lines::table)
            .values(&rows)
            .on_conflict((
                recipe_lines::tenant_id,
                recipe_lines::recipe_id,
                recipe_lines::ingredient_id,
            ))
            .do_update()
            .set(recipe_lines::quantity.eq(excluded(recipe_lines::quantity)))
            .execute(c)
            .await?;
        find_in_tx(c, tenant, id)
            .await?
            .ok_or(InventoryError::NotFound("recipe"))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(lines: Vec<(Uuid, i64)>) -> RecipeInput {
        RecipeInput {
            yield_quantity: Decimal::from(20),
            prep_minutes: None,
            instructions: None,
            lines: lines
                .into_iter()
                .map(|(ingredient_id, q)| RecipeLineInput {
                    ingredient_id,
                    quantity: Decimal::from(q),
                })
                .collect(),
        }
    }

    #[test]
    fn a_recipe_needs_lines_each_ingredient_once_and_positive_amounts() {
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        assert!(RecipeChange::try_from(input(vec![(a, 1), (b, 2)])).is_ok());
        assert!(RecipeChange::try_from(input(vec![])).is_err());
        assert!(RecipeChange::try_from(input(vec![(a, 1), (a, 2)])).is_err());
        assert!(RecipeChange::try_from(input(vec![(a, 0)])).is_err());
        assert!(RecipeChange::try_from(input(vec![(a, -1)])).is_err());
        let too_many = (0..=MAX_RECIPE_LINES)
            .map(|_| (Uuid::new_v4(), 1))
            .collect();
        assert!(RecipeChange::try_from(input(too_many)).is_err());
        let mut no_yield = input(vec![(a, 1)]);
        no_yield.yield_quantity = Decimal::ZERO;
        assert!(RecipeChange::try_from(no_yield).is_err());
        let mut long_prep = input(vec![(a, 1)]);
        long_prep.prep_minutes = Some(MAX_PREP_MINUTES + 1);
        assert!(RecipeChange::try_from(long_prep).is_err());
        let mut nul = input(vec![(a, 1)]);
        nul.instructions = Some("a\0b".to_owned());
        assert!(RecipeChange::try_from(nul).is_err());
    }
}
