//! Stock lots, stock movements and adjustments.
//!
//! Stock on hand of an ingredient or product is the sum of its lots. Taking stock
//! consumes lots first-expiring first (`expires_at`, lots without expiry last, then the
//! oldest received), with the lots locked `FOR UPDATE` so concurrent takers serialise, and
//! never leaves a lot below zero: asking for more than there is fails with
//! `insufficient_stock` and the transaction changes nothing. Every change is recorded in
//! `stock_movements`. A take is one set-based statement whatever the number of lots, and
//! answers totals (`lots_touched`), never the list of lots.

use std::collections::HashMap;

use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Numeric, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::{BakeryTimeZone, WriteScope};
use crate::pagination::{Page, Paginated};
use crate::schema::{ingredients, products, stock_lots, stock_movements};

/// The largest quantity one request may move (keeps within `numeric(12, 3)`).
pub const MAX_QUANTITY: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// What a lot or movement is of: exactly one of an ingredient or a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StockItem {
    Ingredient(Uuid),
    Product(Uuid),
}

impl StockItem {
    /// From a body naming exactly one of `ingredient_id` and `product_id`.
    pub fn from_ids(
        ingredient_id: Option<Uuid>,
        product_id: Option<Uuid>,
    ) -> Result<Self, InventoryError> {
        match (ingredient_id, product_id) {
            (Some(i), None) => Ok(StockItem::Ingredient(i)),
            (None, Some(p)) => Ok(StockItem::Product(p)),
            _ => Err(InventoryError::Invalid(
                "indica exactamente uno de ingredient_id o product_id".to_owned(),
            )),
        }
    }

    pub fn ingredient_id(self) -> Option<Uuid> {
        match self {
            StockItem::Ingredient(id) => Some(id),
            StockItem::Product(_) => None,
        }
    }

    pub fn product_id(self) -> Option<Uuid> {
        match self {
            StockItem::Product(id) => Some(id),
            StockItem::Ingredient(_) => None,
        }
    }

    pub fn id(self) -> Uuid {
        match self {
            StockItem::Ingredient(id) | StockItem::Product(id) => id,
        }
    }

    pub fn kind(self) -> ItemKind {
        match self {
            StockItem::Ingredient(_) => ItemKind::Ingredient,
            StockItem::Product(_) => ItemKind::Product,
        }
    }
}

/// Whether lots and movements are of ingredients or of products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Ingredient,
    Product,
}

impl ItemKind {
    /// The column of `stock_lots` and `stock_movements` naming an item of this kind: the
    /// only text ever put into the `{item}` of a statement.
    fn column(self) -> &'static str {
        match self {
            ItemKind::Ingredient => "ingredient_id",
            ItemKind::Product => "product_id",
        }
    }
}

/// A quantity from a request: positive, at most [`MAX_QUANTITY`], rounded to 3 decimals.
pub fn positive_quantity(q: Decimal, field: &str) -> Result<Decimal, InventoryError> {
    let q = q.round_dp(3);
    if q <= Decimal::ZERO || q > MAX_QUANTITY {
        return Err(InventoryError::Invalid(format!(
            "{field} debe ser mayor que 0 y como mucho {MAX_QUANTITY}"
        )));
    }
    Ok(q)
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = stock_lots, check_for_backend(diesel::pg::Pg))]
pub struct StockLot {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub ingredient_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub lot_code: String,
    pub quantity: Decimal,
    pub initial_quantity: Decimal,
    pub unit_cost: Decimal,
    pub received_at: DateTime<Utc>,
    pub expires_at: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/inventory/stock-lots` filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LotFilter {
    pub ingredient_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    /// Only lots expiring on or before today + this many days (0..=3650).
    #[param(minimum = 0, maximum = 3650)]
    pub expiring_within_days: Option<i64>,
    /// Also list used-up lots (quantity 0). Default: only lots with stock.
    #[serde(default)]
    pub include_empty: bool,
}

fn filtered_lots(
    tenant: Uuid,
    f: &LotFilter,
    today: NaiveDate,
) -> Result<stock_lots::BoxedQuery<'static, diesel::pg::Pg>, InventoryError> {
    let mut q = stock_lots::table
        .filter(stock_lots::tenant_id.eq(tenant))
        .into_boxed();
    if let Some(i) = f.ingredient_id {
        q = q.filter(stock_lots::ingredient_id.eq(i));
    }
    if let Some(p) = f.product_id {
        q = q.filter(stock_lots::product_id.eq(p));
    }
    if let Some(days) = f.expiring_within_days {
        if !(0..=3650).contains(&days) {
            return Err(InventoryError::InvalidQuery(
                "expiring_within_days debe estar entre 0 y 3650".to_owned(),
            ));
        }
        q = q.filter(stock_lots::expires_at.le(today + Duration::days(days)));
    }
    if !f.include_empty {
        q = q.filter(stock_lots::quantity.gt(Decimal::ZERO));
    }
    Ok(q)
}

/// Lots of the tenant, first-expiring first; "expiring within n days" counts from the
/// bakery's today in `time_zone`.
pub async fn list_lots(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    time_zone: BakeryTimeZone,
    filter: &LotFilter,
    page: Page,
) -> Result<Paginated<StockLot>, InventoryError> {
    let today = time_zone.today();
    let count = filtered_lots(tenant, filter, today)?;
    let rows = filtered_lots(tenant, filter, today)?;
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let total: i64 = count.count().get_result(c).await?;
        let items = rows
            .order((
                stock_lots::expires_at.asc().nulls_last(),
                stock_lots::received_at.asc(),
                stock_lots::id.asc(),
            ))
            .limit(page.limit)
            .offset(page.offset)
            .select(StockLot::as_select())
            .load(c)
            .await?;
        Ok(Paginated::new(items, page, total))
    })
    .await
}

/// Stock on hand of one item. Inside a scoped transaction.
pub async fn on_hand(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    item: StockItem,
) -> Result<Decimal, InventoryError> {
    let q = stock_lots::table
        .filter(stock_lots::tenant_id.eq(tenant))
        .select(diesel::dsl::sum(stock_lots::quantity))
        .into_boxed();
    let q = match item {
        StockItem::Ingredient(id) => q.filter(stock_lots::ingredient_id.eq(id)),
        StockItem::Product(id) => q.filter(stock_lots::product_id.eq(id)),
    };
    let sum: Option<Decimal> = q.first(conn).await?;
    Ok(sum.unwrap_or(Decimal::ZERO))
}

#[derive(QueryableByName)]
struct OnHandRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Numeric)]
    on_hand: Decimal,
}

/// `rows` (ingredients or products, as `kind` says), each with its stock on hand: the sum
/// of its lots, 0 without any. One query for all of them. Inside a scoped transaction.
pub async fn with_on_hand<T>(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    kind: ItemKind,
    rows: Vec<T>,
    id_of: impl Fn(&T) -> Uuid,
) -> Result<Vec<(T, Decimal)>, InventoryError> {
    let ids: Vec<Uuid> = rows.iter().map(&id_of).collect();
    let on_hand = on_hand_of(conn, tenant, kind, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let stock = on_hand.get(&id_of(&row)).copied().unwrap_or_default();
            (row, stock)
        })
        .collect())
}

/// Stock on hand of each of `ids` that has lots. Inside a scoped transaction.
pub async fn on_hand_of(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    kind: ItemKind,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Decimal>, InventoryError> {
    let rows: Vec<OnHandRow> = diesel::sql_query(
        "SELECT {item} AS id, sum(quantity) AS on_hand FROM stock_lots \
         WHERE tenant_id = $1 AND {item} = ANY($2) GROUP BY {item}"
            .replace("{item}", kind.column()),
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.on_hand)).collect())
}

/// Why stock moved (the `stock_movements.reason` vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementReason {
    Sale,
    ProductionUse,
    ProductionOutput,
    Waste,
    CountCorrection,
    Delivery,
    Expired,
    Other,
}

impl MovementReason {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementReason::Sale => "sale",
            MovementReason::ProductionUse => "production_use",
            MovementReason::ProductionOutput => "production_output",
            MovementReason::Waste => "waste",
            MovementReason::CountCorrection => "count_correction",
            MovementReason::Delivery => "delivery",
            MovementReason::Expired => "expired",
            MovementReason::Other => "other",
        }
    }
}

/// Why and on whose behalf a movement happens.
#[derive(Debug, Clone, Copy)]
pub struct Movement<'a> {
    pub reason: MovementReason,
    pub reference_id: Option<Uuid>,
    pub note: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = stock_movements)]
struct NewMovement<'a> {
    tenant_id: Uuid,
    id: Uuid,
    lot_id: Option<Uuid>,
    ingredient_id: Option<Uuid>,
    product_id: Option<Uuid>,
    quantity_delta: Decimal,
    reason: &'a str,
    reference_id: Option<Uuid>,
    note: Option<&'a str>,
}

async fn record_movement(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    item: StockItem,
    lot_id: Uuid,
    delta: Decimal,
    movement: Movement<'_>,
) -> Result<(), InventoryError> {
    diesel::insert_into(stock_movements::table)
        .values(NewMovement {
            tenant_id: tenant,
            id: Uuid::new_v4(),
            lot_id: Some(lot_id),
            ingredient_id: item.ingredient_id(),
            product_id: item.product_id(),
            quantity_delta: delta,
            reason: movement.reason.as_str(),
            reference_id: movement.reference_id,
            note: movement.note,
        })
        .execute(conn)
        .await?;
    Ok(())
}

/// What taking stock did, in totals: its size does not grow with the number of lots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Taken {
    /// How many lots gave stock (one movement was recorded for each).
    pub lots_touched: i64,
    /// The quantity taken (what was asked for).
    pub quantity: Decimal,
    /// Σ quantity taken from each lot × that lot's `unit_cost` (production costs its
    /// output with it).
    #[serde(skip)]
    pub cost: Decimal,
}

#[derive(QueryableByName)]
struct TakeRow {
    #[diesel(sql_type = Numeric)]
    available: Decimal,
    #[diesel(sql_type = BigInt)]
    lots_touched: i64,
    #[diesel(sql_type = Numeric)]
    taken: Decimal,
    #[diesel(sql_type = Numeric)]
    cost: Decimal,
}

/// The whole first-expiring-first take as ONE statement, so its cost in round trips and
/// statements is the same for 2 lots or 5,000:
/// - `lots` locks the item's lots holding stock `FOR UPDATE`, in FIFO order (concurrent
///   takers queue on the first lot and then see what the winner left);
/// - `running` is each lot's stock before it in that order (a window sum), so a lot gives
///   `least(its stock, what is still needed)` and only lots before the need is met give;
/// - nothing is taken unless the lots hold all of it (`available >= need`), so a short
///   take changes nothing (the caller answers `insufficient_stock` and rolls back);
/// - `updated` and `moved` take from the lots and record one movement per lot.
///
/// `{item}` is the item's column; `$1` tenant, `$2` item id, `$3` need, `$4`/`$5` the
/// movement's ingredient/product id, `$6` reason, `$7` reference, `$8` note.
const TAKE_FIFO: &str = "\
WITH lots AS ( \
    SELECT id, quantity, unit_cost, expires_at, received_at FROM stock_lots \
    WHERE tenant_id = $1 AND {item} = $2 AND quantity > 0 \
    ORDER BY expires_at ASC NULLS LAST, received_at, id \
    FOR UPDATE \
), running AS ( \
    SELECT id, quantity, unit_cost, \
           sum(quantity) OVER (ORDER BY expires_at ASC NULLS LAST, received_at, id \
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - quantity AS before \
    FROM lots \
), available AS ( \
    SELECT coalesce(sum(quantity), 0) AS available FROM lots \
), take AS ( \
    SELECT r.id, r.unit_cost, least(r.quantity, $3 - r.before) AS taken \
    FROM running r, available a \
    WHERE a.available >= $3 AND r.before < $3 \
), updated AS ( \
    UPDATE stock_lots s SET quantity = s.quantity - t.taken \
    FROM take t WHERE s.tenant_id = $1 AND s.id = t.id \
    RETURNING s.id \
), moved AS ( \
    INSERT INTO stock_movements \
        (tenant_id, id, lot_id, ingredient_id, product_id, quantity_delta, reason, reference_id, note) \
    SELECT $1, gen_random_uuid(), t.id, $4, $5, -t.taken, $6, $7, $8 FROM take t \
    RETURNING 1 \
) \
SELECT a.available, \
       (SELECT count(*) FROM updated) AS lots_touched, \
       coalesce((SELECT sum(taken) FROM take), 0) AS taken, \
       coalesce((SELECT sum(taken * unit_cost) FROM take), 0) AS cost \
FROM available a";

/// Takes `quantity` (> 0) of `item` from its lots, first-expiring first, recording one
/// movement per lot, in one statement ([`TAKE_FIFO`]). Fails with `insufficient_stock`
/// (naming `name`) when the lots hold less, having changed nothing. Inside a scoped
/// transaction, which the caller rolls back on error.
pub async fn consume_fifo(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    item: StockItem,
    name: &str,
    quantity: Decimal,
    movement: Movement<'_>,
) -> Result<Taken, InventoryError> {
    let row: TakeRow = diesel::sql_query(TAKE_FIFO.replace("{item}", item.kind().column()))
        .bind::<SqlUuid, _>(tenant)
        .bind::<SqlUuid, _>(item.id())
        .bind::<Numeric, _>(quantity)
        .bind::<Nullable<SqlUuid>, _>(item.ingredient_id())
        .bind::<Nullable<SqlUuid>, _>(item.product_id())
        .bind::<Text, _>(movement.reason.as_str())
        .bind::<Nullable<SqlUuid>, _>(movement.reference_id)
        .bind::<Nullable<Text>, _>(movement.note)
        .get_result(conn)
        .await?;
    if row.available < quantity {
        return Err(InventoryError::InsufficientStock {
            item: name.to_owned(),
            requested: quantity.normalize(),
            available: row.available.normalize(),
        });
    }
    Ok(Taken {
        lots_touched: row.lots_touched,
        quantity: row.taken,
        cost: row.cost,
    })
}

/// A lot to create.
#[derive(Debug, Clone)]
pub struct NewLot {
    pub item: StockItem,
    pub lot_code: String,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
    pub expires_at: Option<NaiveDate>,
}

#[derive(Insertable)]
#[diesel(table_name = stock_lots)]
struct LotRow<'a> {
    tenant_id: Uuid,
    id: Uuid,
    ingredient_id: Option<Uuid>,
    product_id: Option<Uuid>,
    lot_code: &'a str,
    quantity: Decimal,
    initial_quantity: Decimal,
    unit_cost: Decimal,
    received_at: DateTime<Utc>,
    expires_at: Option<NaiveDate>,
}

/// Creates a lot and records its movement; answers the lot's id. Inside a scoped
/// transaction.
pub async fn add_lot(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    lot: &NewLot,
    movement: Movement<'_>,
) -> Result<Uuid, InventoryError> {
    let id = Uuid::new_v4();
    diesel::insert_into(stock_lots::table)
        .values(LotRow {
            tenant_id: tenant,
            id,
            ingredient_id: lot.item.ingredient_id(),
            product_id: lot.item.product_id(),
            lot_code: &lot.lot_code,
            quantity: lot.quantity,
            initial_quantity: lot.quantity,
            unit_cost: lot.unit_cost,
            received_at: Utc::now(),
            expires_at: lot.expires_at,
        })
        .execute(conn)
        .await?;
    record_movement(conn, tenant, lot.item, id, lot.quantity, movement).await?;
    Ok(id)
}

/// What a new lot of an item needs to know about it.
#[derive(Debug, Clone)]
pub struct ItemInfo {
    pub name: String,
    pub unit_cost: Decimal,
    /// Products: how long a fresh lot keeps.
    pub shelf_life_days: Option<i32>,
}

/// Name and costing of an item, or `unknown_ingredient`/`unknown_product`. Inside a
/// scoped transaction.
pub async fn describe(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    item: StockItem,
) -> Result<ItemInfo, InventoryError> {
    match item {
        StockItem::Ingredient(id) => {
            let row: Option<(String, Decimal)> = ingredients::table
                .filter(ingredients::tenant_id.eq(tenant))
                .filter(ingredients::id.eq(id))
                .select((ingredients::name, ingredients::unit_cost))
                .first(conn)
                .await
                .optional()?;
            let (name, unit_cost) = row.ok_or(InventoryError::UnknownReference("ingredient"))?;
            Ok(ItemInfo {
                name,
                unit_cost,
                shelf_life_days: None,
            })
        }
        StockItem::Product(id) => {
            let row: Option<(String, Option<Decimal>, i32)> = products::table
                .filter(products::tenant_id.eq(tenant))
                .filter(products::id.eq(id))
                .select((
                    products::name,
                    products::purchase_cost,
                    products::shelf_life_days,
                ))
                .first(conn)
                .await
                .optional()?;
            let (name, cost, shelf) = row.ok_or(InventoryError::UnknownReference("product"))?;
            Ok(ItemInfo {
                name,
                unit_cost: cost.unwrap_or(Decimal::ZERO),
                shelf_life_days: Some(shelf),
            })
        }
    }
}

/// Why stock is adjusted by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentReason {
    Waste,
    CountCorrection,
    Expired,
    Other,
}

impl From<AdjustmentReason> for MovementReason {
    fn from(r: AdjustmentReason) -> Self {
        match r {
            AdjustmentReason::Waste => MovementReason::Waste,
            AdjustmentReason::CountCorrection => MovementReason::CountCorrection,
            AdjustmentReason::Expired => MovementReason::Expired,
            AdjustmentReason::Other => MovementReason::Other,
        }
    }
}

/// `POST /api/inventory/adjustments` body. Its schema is written by hand
/// (`AdjustmentRequest::schema_json`): the rules span fields (exactly one item; the sign of
/// `quantity_delta` follows `reason`), which a derived schema cannot say.
#[derive(Debug, Clone, Deserialize)]
pub struct AdjustmentRequest {
    pub ingredient_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub quantity_delta: Decimal,
    pub reason: AdjustmentReason,
    pub note: Option<String>,
}

/// "Exactly one of `ingredient_id` and `product_id`" ([`StockItem::from_ids`]), for a
/// hand-written schema's `allOf`.
pub fn one_item_rule() -> serde_json::Value {
    serde_json::json!({"oneOf": [
        {"type": "object", "required": ["ingredient_id"], "properties": {"ingredient_id": {"type": "string"}, "product_id": {"type": "null"}}},
        {"type": "object", "required": ["product_id"], "properties": {"product_id": {"type": "string"}, "ingredient_id": {"type": "null"}}},
    ]})
}

/// A UUID as the document spells it (the hyphenated form).
pub const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

impl AdjustmentRequest {
    /// What [`Adjustment::try_from`] accepts: exactly one of `ingredient_id` and
    /// `product_id`; `quantity_delta` rounded to 3 decimals not 0 (so beyond ±0.0005) and
    /// at most 1000000 either way, negative for `waste` and `expired`; `note` at most 500
    /// characters.
    fn schema_json() -> serde_json::Value {
        let uuid = serde_json::json!({"type": ["string", "null"], "format": "uuid", "pattern": UUID_PATTERN});
        serde_json::json!({
            "description": "`POST /api/inventory/adjustments` body: exactly one of `ingredient_id` \
                and `product_id`; `quantity_delta` not 0 once rounded to 3 decimals, at most \
                1000000 either way, negative for `waste` and `expired`.",
            "allOf": [
                {
                    "type": "object",
                    "required": ["quantity_delta", "reason"],
                    "properties": {
                        "ingredient_id": uuid,
                        "product_id": uuid,
                        "quantity_delta": {"type": "number", "format": "double", "minimum": -1_000_000, "maximum": 1_000_000},
                        "reason": {"$ref": "#/components/schemas/AdjustmentReason"},
                        "note": {"type": ["string", "null"], "maxLength": 500, "pattern": super::TEXT_PATTERN, "description": "At most 500 characters (trimmed); no NUL character."},
                    },
                },
                one_item_rule(),
                {"anyOf": [
                    {"type": "object", "properties": {"quantity_delta": {"type": "number", "exclusiveMaximum": -0.0005}}},
                    {"type": "object", "properties": {
                        "reason": {"type": "string", "enum": ["count_correction", "other"]},
                        "quantity_delta": {"type": "number", "exclusiveMinimum": 0.0005},
                    }},
                ]},
            ],
        })
    }
}

impl utoipa::PartialSchema for AdjustmentRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AllOf, Schema};
        // utoipa reads a schema as its first matching form, so the `allOf` is read as
        // itself (`Schema` alone would read it as a plain object and drop the parts)
        let all: AllOf = serde_json::from_value(Self::schema_json()).unwrap_or_default();
        utoipa::openapi::RefOr::T(Schema::AllOf(all))
    }
}

impl utoipa::ToSchema for AdjustmentRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        "AdjustmentRequest".into()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((
            <AdjustmentReason as utoipa::ToSchema>::name().into_owned(),
            <AdjustmentReason as utoipa::PartialSchema>::schema(),
        ));
        <AdjustmentReason as utoipa::ToSchema>::schemas(schemas);
    }
}

/// A validated adjustment.
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub item: StockItem,
    pub delta: Decimal,
    pub reason: AdjustmentReason,
    pub note: Option<String>,
}

impl TryFrom<AdjustmentRequest> for Adjustment {
    type Error = InventoryError;

    fn try_from(r: AdjustmentRequest) -> Result<Self, InventoryError> {
        let item = StockItem::from_ids(r.ingredient_id, r.product_id)?;
        let delta = r.quantity_delta.round_dp(3);
        if delta.is_zero() || delta.abs() > MAX_QUANTITY {
            return Err(InventoryError::Invalid(format!(
                "quantity_delta debe ser distinto de 0 y como mucho {MAX_QUANTITY} en valor absoluto"
            )));
        }
        if delta > Decimal::ZERO
            && matches!(
                r.reason,
                AdjustmentReason::Waste | AdjustmentReason::Expired
            )
        {
            return Err(InventoryError::Invalid(
                "las mermas y caducidades solo pueden restar existencias (quantity_delta negativo)"
                    .to_owned(),
            ));
        }
        if let Some(n) = &r.note {
            super::storable_text(n, "note")?;
        }
        let note = r
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            return Err(InventoryError::Invalid(
                "note admite como mucho 500 caracteres".to_owned(),
            ));
        }
        Ok(Adjustment {
            item,
            delta,
            reason: r.reason,
            note,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdjustmentOutcome {
    pub id: Uuid,
    pub ingredient_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub quantity_delta: Decimal,
    pub reason: AdjustmentReason,
    pub note: Option<String>,
    pub on_hand_before: Decimal,
    pub on_hand: Decimal,
    /// How many lots the adjustment changed (a positive one: 1, the lot it created). A
    /// count, not the lots: the answer stays small however many lots a take spans.
    pub lots_touched: i64,
    /// The lot a positive adjustment created (`null` for a negative one).
    pub lot_id: Option<Uuid>,
}

/// Applies an adjustment: a negative delta consumes lots first-expiring first and never
/// goes below zero; a positive delta creates a lot (`AJU-…`). One transaction, and a
/// fixed number of statements whatever the number of lots.
pub async fn adjust(
    conn: &mut AsyncPgConnection,
    scope: impl Into<WriteScope>,
    adj: &Adjustment,
) -> Result<AdjustmentOutcome, InventoryError> {
    let scope = scope.into();
    let tenant = scope.tenant;
    conn.transaction(async |c| {
        scope.enter(c).await?;
        let info = describe(c, tenant, adj.item).await?;
        let before = on_hand(c, tenant, adj.item).await?;
        let id = Uuid::new_v4();
        let movement = Movement {
            reason: adj.reason.into(),
            reference_id: Some(id),
            note: adj.note.as_deref(),
        };
        let (lots_touched, lot_id) = if adj.delta < Decimal::ZERO {
            let taken = consume_fifo(c, tenant, adj.item, &info.name, -adj.delta, movement).await?;
            (taken.lots_touched, None)
        } else {
            let today = scope.today();
            let lot = NewLot {
                item: adj.item,
                lot_code: format!(
                    "AJU-{}-{}",
                    today.format("%Y%m%d"),
                    crate::models::short_code()
                ),
                quantity: adj.delta,
                unit_cost: info.unit_cost,
                expires_at: info
                    .shelf_life_days
                    .map(|d| today + Duration::days(i64::from(d))),
            };
            (1, Some(add_lot(c, tenant, &lot, movement).await?))
        };
        let after = on_hand(c, tenant, adj.item).await?;
        Ok(AdjustmentOutcome {
            id,
            ingredient_id: adj.item.ingredient_id(),
            product_id: adj.item.product_id(),
            quantity_delta: adj.delta,
            reason: adj.reason,
            note: adj.note.clone(),
            on_hand_before: before,
            on_hand: after,
            lots_touched,
            lot_id,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(delta: i64, reason: AdjustmentReason) -> AdjustmentRequest {
        AdjustmentRequest {
            ingredient_id: Some(Uuid::nil()),
            product_id: None,
            quantity_delta: Decimal::from(delta),
            reason,
            note: None,
        }
    }

    #[test]
    fn adjustments_are_validated() {
        assert!(Adjustment::try_from(req(-2, AdjustmentReason::Waste)).is_ok());
        assert!(Adjustment::try_from(req(2, AdjustmentReason::CountCorrection)).is_ok());
        assert!(Adjustment::try_from(req(0, AdjustmentReason::Other)).is_err());
        assert!(Adjustment::try_from(req(2, AdjustmentReason::Waste)).is_err());
        assert!(Adjustment::try_from(req(2_000_000, AdjustmentReason::Other)).is_err());
        let mut both = req(1, AdjustmentReason::Other);
        both.product_id = Some(Uuid::nil());
        assert!(Adjustment::try_from(both).is_err());
    }
}

#[cfg(test)]
mod adjustment_schema_tests {
    use super::AdjustmentRequest;

    /// The hand-written schema survives utoipa's model whole (nothing dropped).
    #[test]
    fn adjustment_schema_round_trips() {
        let schema = <AdjustmentRequest as utoipa::PartialSchema>::schema();
        let back = serde_json::to_value(&schema).unwrap();
        assert_eq!(back, AdjustmentRequest::schema_json());
    }
}
