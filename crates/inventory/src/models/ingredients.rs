//! Ingredients, with stock on hand and the low-stock flag.

use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::WriteScope;
use crate::models::stock::{self, ItemKind, MAX_QUANTITY};
use crate::pagination::{Page, Paginated};
use crate::schema::{ingredients, suppliers};

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = ingredients, check_for_backend(diesel::pg::Pg))]
pub struct Ingredient {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub name: String,
    pub category: String,
    pub unit: String,
    pub unit_cost: Decimal,
    pub reorder_point: Decimal,
    pub reorder_quantity: Decimal,
    pub allergens: Vec<String>,
    pub supplier_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An ingredient as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IngredientView {
    #[serde(flatten)]
    pub ingredient: Ingredient,
    /// Sum of the ingredient's lots.
    pub on_hand: Decimal,
    /// `on_hand <= reorder_point`.
    pub low_stock: bool,
}

impl IngredientView {
    fn new(ingredient: Ingredient, on_hand: Decimal) -> Self {
        IngredientView {
            low_stock: on_hand <= ingredient.reorder_point,
            on_hand,
            ingredient,
        }
    }
}

/// Units an ingredient is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Kg,
    G,
    L,
    Ml,
    Unidad,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Kg => "kg",
            Unit::G => "g",
            Unit::L => "l",
            Unit::Ml => "ml",
            Unit::Unidad => "unidad",
        }
    }
}

/// `POST` and `PUT /api/inventory/ingredients[/{id}]` body (`PUT` replaces every field).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct IngredientInput {
    /// 1 to 200 characters once trimmed: not blank; no NUL character.
    #[schema(
        pattern = r"^[^\x00]*[^\x00\s][^\x00]*$",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    /// At most 100 characters (trimmed), no NUL character; blank or absent: `otros`.
    #[schema(max_length = 100, pattern = r"^[^\x00]*$")]
    pub category: Option<String>,
    pub unit: Unit,
    /// 0..=1000000 (rounded to 4 decimals).
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub unit_cost: Decimal,
    /// 0..=1000000 (rounded to 3 decimals); default 0.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub reorder_point: Option<Decimal>,
    /// 0..=1000000 (rounded to 3 decimals); default 0.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub reorder_quantity: Option<Decimal>,
    /// At most 20 (blank ones dropped), each at most 50 characters.
    #[schema(max_items = 20, value_type = Option<Vec<AllergenText>>)]
    pub allergens: Option<Vec<String>>,
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub supplier_id: Option<Uuid>,
}

/// An allergen as `IngredientInput` takes it (documented only).
/// At most 50 characters (trimmed), no NUL character.
pub struct AllergenText;

impl utoipa::PartialSchema for AllergenText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
        let text = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("At most 50 characters (trimmed), no NUL character."))
            .pattern(Some(super::TEXT_PATTERN))
            .max_length(Some(50))
            .build();
        utoipa::openapi::RefOr::T(Schema::Object(text))
    }
}

impl utoipa::ToSchema for AllergenText {
    fn name() -> std::borrow::Cow<'static, str> {
        "AllergenText".into()
    }
}

/// A validated ingredient.
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = ingredients, treat_none_as_null = true)]
pub struct IngredientFields {
    pub name: String,
    pub category: String,
    pub unit: String,
    pub unit_cost: Decimal,
    pub reorder_point: Decimal,
    pub reorder_quantity: Decimal,
    pub allergens: Vec<String>,
    pub supplier_id: Option<Uuid>,
}

fn non_negative(value: Decimal, field: &str, dp: u32) -> Result<Decimal, InventoryError> {
    let v = value.round_dp(dp);
    if v < Decimal::ZERO || v > MAX_QUANTITY {
        return Err(InventoryError::Invalid(format!(
            "{field} debe estar entre 0 y {MAX_QUANTITY}"
        )));
    }
    Ok(v)
}

impl TryFrom<IngredientInput> for IngredientFields {
    type Error = InventoryError;

    fn try_from(i: IngredientInput) -> Result<Self, InventoryError> {
        super::storable_text(&i.name, "name")?;
        if let Some(c) = &i.category {
            super::storable_text(c, "category")?;
        }
        for a in i.allergens.iter().flatten() {
            super::storable_text(a, "allergens")?;
        }
        let name = i.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(InventoryError::Invalid(
                "name debe tener entre 1 y 200 caracteres".to_owned(),
            ));
        }
        let category = i
            .category
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "otros".to_owned());
        if category.chars().count() > 100 {
            return Err(InventoryError::Invalid(
                "category admite como mucho 100 caracteres".to_owned(),
            ));
        }
        let allergens: Vec<String> = i
            .allergens
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        if allergens.len() > 20 || allergens.iter().any(|a| a.chars().count() > 50) {
            return Err(InventoryError::Invalid(
                "allergens: como mucho 20, de hasta 50 caracteres".to_owned(),
            ));
        }
        Ok(IngredientFields {
            name,
            category,
            unit: i.unit.as_str().to_owned(),
            unit_cost: non_negative(i.unit_cost, "unit_cost", 4)?,
            reorder_point: non_negative(i.reorder_point.unwrap_or_default(), "reorder_point", 3)?,
            reorder_quantity: non_negative(
                i.reorder_quantity.unwrap_or_default(),
                "reorder_quantity",
                3,
            )?,
            allergens,
            supplier_id: i.supplier_id,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = ingredients)]
struct NewIngredient {
    tenant_id: Uuid,
    id: Uuid,
    #[diesel(embed)]
    fields: IngredientFields,
}

/// The ingredients with their stock on hand. Inside a scoped transaction.
async fn views(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    rows: Vec<Ingredient>,
) -> Result<Vec<IngredientView>, InventoryError> {
    let rows = stock::with_on_hand(c, tenant, ItemKind::Ingredient, rows, |i| i.id).await?;
    Ok(rows
        .into_iter()
        .map(|(i, on_hand)| IngredientView::new(i, on_hand))
        .collect())
}

/// One page of ingredients by name.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    page: Page,
) -> Result<Paginated<IngredientView>, InventoryError> {
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let total: i64 = ingredients::table
            .filter(ingredients::tenant_id.eq(tenant))
            .count()
            .get_result(c)
            .await?;
        let rows: Vec<Ingredient> = ingredients::table
            .filter(ingredients::tenant_id.eq(tenant))
            .order((ingredients::name.asc(), ingredients::id.asc()))
            .limit(page.limit)
            .offset(page.offset)
            .select(Ingredient::as_select())
            .load(c)
            .await?;
        Ok(Paginated::new(views(c, tenant, rows).await?, page, total))
    })
    .await
}

async fn find_in_tx(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<IngredientView, InventoryError> {
    let row: Ingredient = ingredients::table
        .filter(ingredients::tenant_id.eq(tenant))
        .filter(ingredients::id.eq(id))
        .select(Ingredient::as_select())
        .first(c)
        .await
        .optional()?
        .ok_or(InventoryError::NotFound("ingredient"))?;
    views(c, tenant, vec![row])
        .await?
        .pop()
        .ok_or(InventoryError::NotFound("ingredient"))
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<IngredientView, InventoryError> {
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        find_in_tx(c, tenant, id).await
    })
    .await
}

async fn check_supplier(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    supplier: Option<Uuid>,
) -> Result<(), InventoryError> {
    if let Some(s) = supplier {
        let found: i64 = suppliers::table
            .filter(suppliers::tenant_id.eq(tenant))
            .filter(suppliers::id.eq(s))
            .count()
            .get_result(c)
            .await?;
        if found == 0 {
            return Err(InventoryError::UnknownReference("supplier"));
        }
    }
    Ok(())
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    scope: impl Into<WriteScope>,
    fields: &IngredientFields,
) -> Result<IngredientView, InventoryError> {
    let scope = scope.into();
    let tenant = scope.tenant;
    conn.transaction(async |c| {
        scope.enter(c).await?;
        check_supplier(c, tenant, fields.supplier_id).await?;
        let id = Uuid::new_v4();
        diesel::insert_into(ingredients::table)
            .values(NewIngredient {
                tenant_id: tenant,
                id,
                fields: fields.clone(),
            })
            .execute(c)
            .await?;
        find_in_tx(c, tenant, id).await
    })
    .await
}

/// One ingredient of the tenant, by its key `(tenant_id, id)`: `WHERE tenant_id = $1 AND
/// id = $2`.
fn one_ingredient(tenant: Uuid, id: Uuid) -> diesel::dsl::Find<ingredients::table, (Uuid, Uuid)> {
    ingredients::table.find((tenant, id))
}

/// An update or delete that touched no row named an ingredient the tenant does not have.
fn require_found(rows: usize) -> Result<(), InventoryError> {
    if rows == 0 {
        return Err(InventoryError::NotFound("ingredient"));
    }
    Ok(())
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
    fields: &IngredientFields,
) -> Result<IngredientView, InventoryError> {
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        check_supplier(c, tenant, fields.supplier_id).await?;
        let n = diesel::update(one_ingredient(tenant, id))
            .set((fields, ingredients::updated_at.eq(diesel::dsl::now)))
            .execute(c)
            .await?;
        require_found(n)?;
        find_in_tx(c, tenant, id).await
    })
    .await
}

/// Deletes an ingredient and its lots; `in_use` while a recipe or an order names it.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<(), InventoryError> {
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let n = diesel::delete(one_ingredient(tenant, id))
            .execute(c)
            .await?;
        require_found(n)
    })
    .await
}
