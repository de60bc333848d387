//! Suppliers and purchase orders, and the drafts the procurement run writes.
//!
//! An order's `delivery_status` is derived: `delivered` once delivered; `late` when an
//! order that was sent (`pending` or `in_transit`) is not delivered and its `expected_at`
//! is before today; `in_transit` while on its way; `pending` otherwise (drafts and
//! cancelled orders included).

use std::collections::{BTreeMap, HashMap};

use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Numeric, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::stock::{self, StockItem};
use crate::models::{BakeryTimeZone, WriteScope, check_amount, group_by, short_code};
use crate::pagination::{Page, Paginated};
use crate::schema::{purchase_order_lines, purchase_orders, suppliers};

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = suppliers, check_for_backend(diesel::pg::Pg))]
pub struct Supplier {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub contact_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub city: Option<String>,
    pub lead_time_days: i32,
    pub created_at: DateTime<Utc>,
}

/// One page of suppliers by name.
pub async fn list_suppliers(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    page: Page,
) -> Result<Paginated<Supplier>, InventoryError> {
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let total: i64 = suppliers::table
            .filter(suppliers::tenant_id.eq(tenant))
            .count()
            .get_result(c)
            .await?;
        let items = suppliers::table
            .filter(suppliers::tenant_id.eq(tenant))
            .order((suppliers::name.asc(), suppliers::id.asc()))
            .limit(page.limit)
            .offset(page.offset)
            .select(Supplier::as_select())
            .load(c)
            .await?;
        Ok(Paginated::new(items, page, total))
    })
    .await
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = purchase_orders, check_for_backend(diesel::pg::Pg))]
pub struct PurchaseOrder {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub supplier_id: Uuid,
    pub reference: String,
    pub status: String,
    pub source: String,
    pub ordered_at: DateTime<Utc>,
    pub expected_at: NaiveDate,
    pub delivered_at: Option<DateTime<Utc>>,
    pub total: Decimal,
    pub notes: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = purchase_order_lines, check_for_backend(diesel::pg::Pg))]
pub struct OrderLine {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    #[serde(skip)]
    pub order_id: Uuid,
    pub ingredient_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    InTransit,
    Delivered,
    Late,
}

impl DeliveryStatus {
    pub fn of(order: &PurchaseOrder, today: NaiveDate) -> Self {
        match order.status.as_str() {
            "delivered" => DeliveryStatus::Delivered,
            _ if order.delivered_at.is_some() => DeliveryStatus::Delivered,
            "pending" | "in_transit" if order.expected_at < today => DeliveryStatus::Late,
            "in_transit" => DeliveryStatus::InTransit,
            _ => DeliveryStatus::Pending,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    #[serde(flatten)]
    pub order: PurchaseOrder,
    pub supplier_name: String,
    pub delivery_status: DeliveryStatus,
    pub lines: Vec<OrderLine>,
}

/// `GET /api/orders` filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    /// `draft`, `pending`, `in_transit`, `delivered` or `cancelled`.
    #[param(pattern = "^(draft|pending|in_transit|delivered|cancelled)$")]
    pub status: Option<String>,
    pub supplier_id: Option<Uuid>,
}

const ORDER_STATUSES: [&str; 5] = ["draft", "pending", "in_transit", "delivered", "cancelled"];

fn filtered_orders(
    tenant: Uuid,
    f: &OrderFilter,
) -> Result<purchase_orders::BoxedQuery<'static, diesel::pg::Pg>, InventoryError> {
    let mut q = purchase_orders::table
        .filter(purchase_orders::tenant_id.eq(tenant))
        .into_boxed();
    if let Some(status) = &f.status {
        if !ORDER_STATUSES.contains(&status.as_str()) {
            return Err(InventoryError::InvalidQuery(format!(
                "status debe ser uno de {}",
                ORDER_STATUSES.join(", ")
            )));
        }
        q = q.filter(purchase_orders::status.eq(status.clone()));
    }
    if let Some(s) = f.supplier_id {
        q = q.filter(purchase_orders::supplier_id.eq(s));
    }
    Ok(q)
}

/// The orders with their lines, supplier names and delivery status (late from the day
/// after `today`, the bakery's).
async fn views(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    today: NaiveDate,
    orders: Vec<PurchaseOrder>,
) -> Result<Vec<OrderView>, InventoryError> {
    let ids: Vec<Uuid> = orders.iter().map(|o| o.id).collect();
    let lines: Vec<OrderLine> = purchase_order_lines::table
        .filter(purchase_order_lines::tenant_id.eq(tenant))
        .filter(purchase_order_lines::order_id.eq_any(&ids))
        .order(purchase_order_lines::id)
        .select(OrderLine::as_select())
        .load(c)
        .await?;
    let supplier_ids: Vec<Uuid> = orders.iter().map(|o| o.supplier_id).collect();
    let names: HashMap<Uuid, String> = suppliers::table
        .filter(suppliers::tenant_id.eq(tenant))
        .filter(suppliers::id.eq_any(&supplier_ids))
        .select((suppliers::id, suppliers::name))
        .load::<(Uuid, String)>(c)
        .await?
        .into_iter()
        .collect();
    let mut by_order = group_by(lines, |l| l.order_id);
    Ok(orders
        .into_iter()
        .map(|order| OrderView {
            supplier_name: names.get(&order.supplier_id).cloned().unwrap_or_default(),
            delivery_status: DeliveryStatus::of(&order, today),
            lines: by_order.remove(&order.id).unwrap_or_default(),
            order,
        })
        .collect())
}

/// One page of purchase orders, newest first, with lines and delivery status (late in
/// the bakery's days, `time_zone`).
pub async fn list_orders(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    time_zone: BakeryTimeZone,
    filter: &OrderFilter,
    page: Page,
) -> Result<Paginated<OrderView>, InventoryError> {
    let count = filtered_orders(tenant, filter)?;
    let rows = filtered_orders(tenant, filter)?;
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let total: i64 = count.count().get_result(c).await?;
        let orders: Vec<PurchaseOrder> = rows
            .order((
                purchase_orders::ordered_at.desc(),
                purchase_orders::id.asc(),
            ))
            .limit(page.limit)
            .offset(page.offset)
            .select(PurchaseOrder::as_select())
            .load(c)
            .await?;
        let items = views(c, tenant, time_zone.today(), orders).await?;
        Ok(Paginated::new(items, page, total))
    })
    .await
}

/// A line of `POST /api/orders`. Its schema is written by hand (`OrderLineRequest::schema_json`):
/// "exactly one of `ingredient_id` and `product_id`" spans two fields.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderLineRequest {
    pub ingredient_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub quantity: Decimal,
    /// Defaults to the ingredient's `unit_cost` or the product's `purchase_cost`.
    pub unit_cost: Option<Decimal>,
}

impl OrderLineRequest {
    /// What [`NewOrder::try_from`] takes of a line.
    fn schema_json() -> serde_json::Value {
        let uuid = serde_json::json!({"type": ["string", "null"], "format": "uuid", "pattern": stock::UUID_PATTERN});
        serde_json::json!({
            "description": "An order line: exactly one of `ingredient_id` and `product_id`.",
            "allOf": [
                {
                    "type": "object",
                    "required": ["quantity"],
                    "properties": {
                        "ingredient_id": uuid,
                        "product_id": uuid,
                        "quantity": {"type": "number", "format": "double", "minimum": 0.001, "maximum": 1_000_000,
                            "description": "More than 0 (rounded to 3 decimals, so at least 0.001), at most 1000000."},
                        "unit_cost": {"type": ["number", "null"], "format": "double", "minimum": 0, "maximum": 1_000_000,
                            "description": "Defaults to the ingredient's `unit_cost` or the product's `purchase_cost`; 0..=1000000."},
                    },
                },
                stock::one_item_rule(),
            ],
        })
    }
}

impl utoipa::PartialSchema for OrderLineRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AllOf, Schema};
        let all: AllOf = serde_json::from_value(Self::schema_json()).unwrap_or_default();
        utoipa::openapi::RefOr::T(Schema::AllOf(all))
    }
}

impl utoipa::ToSchema for OrderLineRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        "OrderLineRequest".into()
    }
}

/// Orders created by hand start `pending` (sent), or `draft`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NewOrderStatus {
    Draft,
    #[default]
    Pending,
}

/// `POST /api/orders` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OrderRequest {
    pub supplier_id: Uuid,
    /// Defaults to today + the supplier's lead time; within a year of today (the pattern
    /// is today's: `crate::openapi::document`).
    pub expected_at: Option<NaiveDate>,
    #[serde(default)]
    pub status: NewOrderStatus,
    /// At most 1000 characters (trimmed); no NUL character.
    #[schema(max_length = 1000, pattern = r"^[^\x00]*$")]
    pub notes: Option<String>,
    /// 1 to 100 lines.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<OrderLineRequest>,
}

/// The days an order's `expected_at` may name: within a year of `today`.
pub fn expected_at_window(today: NaiveDate) -> std::ops::RangeInclusive<NaiveDate> {
    (today - Duration::days(365))..=(today + Duration::days(365))
}

/// [`expected_at_window`] as a pattern for the document (`YYYY-MM-DD`, one alternative per
/// month): the window moves with the day, so the document is given it when rendered.
pub fn expected_at_pattern(today: NaiveDate) -> String {
    use chrono::Datelike;
    let window = expected_at_window(today);
    let (first, last) = (*window.start(), *window.end());
    let mut months = Vec::new();
    let mut month = first.with_day(1).unwrap_or(first);
    while month <= last {
        let next = month
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(last.succ_opt().unwrap_or(last));
        let end = next.pred_opt().unwrap_or(next);
        let prefix = month.format("%Y-%m-");
        if first <= month && end <= last {
            months.push(format!("{prefix}(0[1-9]|[12][0-9]|3[01])"));
        } else {
            let days: Vec<String> = month
                .iter_days()
                .take_while(|d| *d <= end)
                .filter(|d| window.contains(d))
                .map(|d| d.format("%d").to_string())
                .collect();
            months.push(format!("{prefix}({})", days.join("|")));
        }
        if next <= month {
            break;
        }
        month = next;
    }
    format!("^({})$", months.join("|"))
}

/// A validated order.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub supplier_id: Uuid,
    pub expected_at: Option<NaiveDate>,
    pub status: NewOrderStatus,
    pub notes: String,
    pub lines: Vec<(StockItem, Decimal, Option<Decimal>)>,
}

impl TryFrom<OrderRequest> for NewOrder {
    type Error = InventoryError;
    fn try_from(r: OrderRequest) -> Result<Self, InventoryError> {
        if r.lines.is_empty() || r.lines.len() > 100 {
            return Err(InventoryError::Invalid(
                "un pedido tiene entre 1 y 100 líneas".to_owned(),
            ));
        }
        if let Some(d) = r.expected_at
            // a year either way of any zone's today: the zone's day does not matter here
            && !expected_at_window(BakeryTimeZone::default().today()).contains(&d)
        {
            return Err(InventoryError::Invalid(
                "expected_at debe estar a menos de un año de hoy".to_owned(),
            ));
        }
        if let Some(n) = &r.notes {
            super::storable_text(n, "notes")?;
        }
        let notes = r.notes.unwrap_or_default().trim().to_owned();
        if notes.chars().count() > 1000 {
            return Err(InventoryError::Invalid(
                "notes admite como mucho 1000 caracteres".to_owned(),
            ));
        }
        let mut lines = Vec::with_capacity(r.lines.len());
        for l in r.lines {
            let item = StockItem::from_ids(l.ingredient_id, l.product_id)?;
            let quantity = stock::positive_quantity(l.quantity, "quantity")?;
            let cost = match l.unit_cost {
                Some(c) if c < Decimal::ZERO || c > stock::MAX_QUANTITY => {
                    return Err(InventoryError::Invalid(
                        "unit_cost no puede ser negativo ni desorbitado".to_owned(),
                    ));
                }
                other => other.map(|c| c.round_dp(4)),
            };
            lines.push((item, quantity, cost));
        }
        Ok(NewOrder {
            supplier_id: r.supplier_id,
            expected_at: r.expected_at,
            status: r.status,
            notes,
            lines,
        })
    }
}

/// Creates a purchase order with its lines.
pub async fn create_order(
    conn: &mut AsyncPgConnection,
    scope: impl Into<WriteScope>,
    new: &NewOrder,
) -> Result<OrderView, InventoryError> {
    let scope = scope.into();
    let tenant = scope.tenant;
    conn.transaction(async |c| {
        scope.enter(c).await?;
        let lead = supplier_lead_time(c, tenant, new.supplier_id).await?;
        let order_id = Uuid::new_v4();
        let lines = priced_lines(c, tenant, order_id, &new.lines).await?;
        let now = Utc::now();
        // one reading of the bakery's day: the reference, the expected day and the status
        // agree even at midnight
        let today = scope.today();
        let order = PurchaseOrder {
            tenant_id: tenant,
            id: order_id,
            supplier_id: new.supplier_id,
            reference: format!("PO-{}-{}", today.format("%Y%m%d"), short_code()),
            status: match new.status {
                NewOrderStatus::Draft => "draft",
                NewOrderStatus::Pending => "pending",
            }
            .to_owned(),
            source: "manual".to_owned(),
            ordered_at: now,
            expected_at: new
                .expected_at
                .unwrap_or_else(|| today + Duration::days(i64::from(lead))),
            delivered_at: None,
            total: check_amount(total_of(&lines), "el importe del pedido")?,
            notes: new.notes.clone(),
            created_at: now,
        };
        insert_order(c, &order, &lines).await?;
        views(c, tenant, today, vec![order])
            .await?
            .into_iter()
            .next()
            .ok_or(InventoryError::NotFound("order"))
    })
    .await
}

/// The supplier's lead time in days, or `unknown_supplier`. Inside a scoped transaction.
async fn supplier_lead_time(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    supplier_id: Uuid,
) -> Result<i32, InventoryError> {
    suppliers::table
        .filter(suppliers::tenant_id.eq(tenant))
        .filter(suppliers::id.eq(supplier_id))
        .select(suppliers::lead_time_days)
        .first(c)
        .await
        .optional()?
        .ok_or(InventoryError::UnknownReference("supplier"))
}

/// The order's lines, each at its own cost or else the item's current one
/// (`unknown_ingredient`/`unknown_product` for an item the tenant does not have). Inside a
/// scoped transaction.
async fn priced_lines(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    order_id: Uuid,
    requested: &[(StockItem, Decimal, Option<Decimal>)],
) -> Result<Vec<OrderLine>, InventoryError> {
    let mut lines = Vec::with_capacity(requested.len());
    for (item, quantity, cost) in requested {
        let info = stock::describe(c, tenant, *item).await?;
        lines.push(OrderLine {
            tenant_id: tenant,
            id: Uuid::new_v4(),
            order_id,
            ingredient_id: item.ingredient_id(),
            product_id: item.product_id(),
            quantity: *quantity,
            unit_cost: cost.unwrap_or(info.unit_cost),
        });
    }
    Ok(lines)
}

/// An order's total: Σ quantity × unit cost, rounded to cents.
fn total_of(lines: &[OrderLine]) -> Decimal {
    lines
        .iter()
        .map(|l| l.quantity * l.unit_cost)
        .sum::<Decimal>()
        .round_dp(2)
}

/// Inserts an order and its lines. Inside a scoped transaction.
async fn insert_order(
    c: &mut AsyncPgConnection,
    order: &PurchaseOrder,
    lines: &[OrderLine],
) -> Result<(), InventoryError> {
    diesel::insert_into(purchase_orders::table)
        .values(order)
        .execute(c)
        .await?;
    diesel::insert_into(purchase_order_lines::table)
        .values(lines)
        .execute(c)
        .await?;
    Ok(())
}

/// An ingredient at or under its reorder point with no open order.
#[derive(Debug, Clone, QueryableByName)]
struct ReorderCandidate {
    #[diesel(sql_type = SqlUuid)]
    ingredient_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    supplier_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    lead_time_days: i32,
    #[diesel(sql_type = Numeric)]
    unit_cost: Decimal,
    #[diesel(sql_type = Numeric)]
    reorder_point: Decimal,
    #[diesel(sql_type = Numeric)]
    reorder_quantity: Decimal,
    #[diesel(sql_type = Numeric)]
    on_hand: Decimal,
}

impl ReorderCandidate {
    /// `reorder_quantity`, or, when that is 0, what brings stock to twice the reorder point.
    fn quantity(&self) -> Decimal {
        if self.reorder_quantity > Decimal::ZERO {
            self.reorder_quantity
        } else {
            (self.reorder_point * Decimal::TWO - self.on_hand).max(Decimal::ZERO)
        }
    }
}

/// What one tenant's procurement run drafted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Drafted {
    pub orders: usize,
    pub lines: usize,
}

/// For one tenant: drafts one order (status `draft`, source `procurement`) per supplier
/// for every ingredient with a supplier whose stock on hand is at or under its reorder
/// point and that no open (`draft`, `pending`, `in_transit`) order already names. The
/// quantity is `reorder_quantity`, or, when that is 0, what brings stock to twice the
/// reorder point. Idempotent: a second run finds open orders and drafts nothing.
///
/// `excluded` are tenants that must never get drafts (demo and template tenants): the SQL
/// itself refuses them, whatever the caller passed as `tenant`. A transaction-level
/// advisory lock makes concurrent runs (several replicas) draft once.
pub async fn draft_reorders(
    conn: &mut AsyncPgConnection,
    scope: impl Into<WriteScope>,
    excluded: &[Uuid],
) -> Result<Drafted, InventoryError> {
    let scope = scope.into();
    let tenant = scope.tenant;
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('procurement:' || $1::text))")
            .bind::<SqlUuid, _>(tenant)
            .execute(c)
            .await?;
        let candidates = reorder_candidates(c, tenant, excluded).await?;
        let mut drafted = Drafted::default();
        let now = Utc::now();
        for (supplier_id, items) in by_supplier(candidates) {
            drafted.lines += draft_order(c, &scope, supplier_id, &items, now).await?;
            drafted.orders += 1;
        }
        Ok(drafted)
    })
    .await
}

/// The tenant's ingredients to reorder (see [`draft_reorders`]), by supplier and
/// ingredient id; none for an excluded tenant. Inside a scoped transaction.
async fn reorder_candidates(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    excluded: &[Uuid],
) -> Result<Vec<ReorderCandidate>, InventoryError> {
    Ok(diesel::sql_query(
        "SELECT i.id AS ingredient_id, i.supplier_id AS supplier_id, s.lead_time_days, \
                i.unit_cost, i.reorder_point, i.reorder_quantity, \
                coalesce(l.on_hand, 0) AS on_hand \
         FROM ingredients i \
         JOIN suppliers s ON s.tenant_id = i.tenant_id AND s.id = i.supplier_id \
         LEFT JOIN (SELECT ingredient_id, sum(quantity) AS on_hand FROM stock_lots \
                    WHERE tenant_id = $1 AND ingredient_id IS NOT NULL \
                    GROUP BY ingredient_id) l ON l.ingredient_id = i.id \
         WHERE i.tenant_id = $1 \
           AND NOT ($1 = ANY($2)) \
           AND coalesce(l.on_hand, 0) <= i.reorder_point \
           AND NOT EXISTS ( \
               SELECT 1 FROM purchase_order_lines pl \
               JOIN purchase_orders po ON po.tenant_id = pl.tenant_id AND po.id = pl.order_id \
               WHERE pl.tenant_id = $1 AND pl.ingredient_id = i.id \
                 AND po.status IN ('draft', 'pending', 'in_transit')) \
         ORDER BY s.id, i.id",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<Array<SqlUuid>, _>(excluded)
    .load(c)
    .await?)
}

/// The candidates with something to order, each with its quantity, by supplier (in
/// supplier id order, so drafting is deterministic).
fn by_supplier(
    candidates: Vec<ReorderCandidate>,
) -> BTreeMap<Uuid, Vec<(ReorderCandidate, Decimal)>> {
    let mut by_supplier: BTreeMap<Uuid, Vec<(ReorderCandidate, Decimal)>> = BTreeMap::new();
    for cand in candidates {
        let quantity = cand.quantity();
        if quantity > Decimal::ZERO {
            by_supplier
                .entry(cand.supplier_id)
                .or_default()
                .push((cand, quantity));
        }
    }
    by_supplier
}

/// Drafts one supplier's order of `items`, expected after the supplier's lead time;
/// answers how many lines it has. Inside a scoped transaction.
async fn draft_order(
    c: &mut AsyncPgConnection,
    scope: &WriteScope,
    supplier_id: Uuid,
    items: &[(ReorderCandidate, Decimal)],
    now: DateTime<Utc>,
) -> Result<usize, InventoryError> {
    let (tenant, today) = (scope.tenant, scope.today());
    let order_id = Uuid::new_v4();
    // every candidate carries its supplier's lead time
    let lead = items.first().map_or(1, |(cand, _)| cand.lead_time_days);
    let lines: Vec<OrderLine> = items
        .iter()
        .map(|(cand, quantity)| OrderLine {
            tenant_id: tenant,
            id: Uuid::new_v4(),
            order_id,
            ingredient_id: Some(cand.ingredient_id),
            product_id: None,
            quantity: *quantity,
            unit_cost: cand.unit_cost,
        })
        .collect();
    let order = PurchaseOrder {
        tenant_id: tenant,
        id: order_id,
        supplier_id,
        reference: format!("AUTO-{}-{}", today.format("%Y%m%d"), short_code()),
        status: "draft".to_owned(),
        source: "procurement".to_owned(),
        ordered_at: now,
        expected_at: today + Duration::days(i64::from(lead)),
        delivered_at: None,
        total: total_of(&lines),
        notes: "Borrador generado automáticamente: ingredientes bajo el punto de pedido."
            .to_owned(),
        created_at: now,
    };
    insert_order(c, &order, &lines).await?;
    Ok(lines.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: &str, expected_in_days: i64, delivered: bool) -> PurchaseOrder {
        let now = Utc::now();
        PurchaseOrder {
            tenant_id: Uuid::nil(),
            id: Uuid::nil(),
            supplier_id: Uuid::nil(),
            reference: String::new(),
            status: status.to_owned(),
            source: "manual".to_owned(),
            ordered_at: now,
            expected_at: BakeryTimeZone::MADRID.today() + Duration::days(expected_in_days),
            delivered_at: delivered.then_some(now),
            total: Decimal::ZERO,
            notes: String::new(),
            created_at: now,
        }
    }

    #[test]
    fn delivery_status_is_derived() {
        let t = BakeryTimeZone::MADRID.today();
        let of = |o: PurchaseOrder| DeliveryStatus::of(&o, t);
        assert_eq!(of(order("delivered", -5, true)), DeliveryStatus::Delivered);
        assert_eq!(of(order("in_transit", -1, true)), DeliveryStatus::Delivered);
        assert_eq!(of(order("pending", -1, false)), DeliveryStatus::Late);
        assert_eq!(of(order("in_transit", -1, false)), DeliveryStatus::Late);
        assert_eq!(of(order("in_transit", 0, false)), DeliveryStatus::InTransit);
        assert_eq!(of(order("pending", 0, false)), DeliveryStatus::Pending);
        assert_eq!(of(order("draft", -9, false)), DeliveryStatus::Pending);
        assert_eq!(of(order("cancelled", -9, false)), DeliveryStatus::Pending);
    }
}

#[cfg(test)]
mod order_line_schema_tests {
    use super::OrderLineRequest;

    #[test]
    fn order_line_schema_round_trips() {
        let schema = <OrderLineRequest as utoipa::PartialSchema>::schema();
        assert_eq!(
            serde_json::to_value(&schema).unwrap(),
            OrderLineRequest::schema_json()
        );
    }
}

#[cfg(test)]
mod expected_at_pattern_tests {
    use chrono::{Duration, NaiveDate};

    use super::{expected_at_pattern, expected_at_window};

    #[test]
    fn the_pattern_matches_the_window_exactly() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let re = regex_lite::Regex::new(&expected_at_pattern(today)).unwrap();
        let window = expected_at_window(today);
        let mut d = today - Duration::days(400);
        while d <= today + Duration::days(400) {
            let text = d.format("%Y-%m-%d").to_string();
            assert_eq!(re.is_match(&text), window.contains(&d), "{text}");
            d += Duration::days(1);
        }
    }
}
