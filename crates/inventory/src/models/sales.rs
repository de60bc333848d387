//! Sales and the point of sale. A POS sale takes finished-product stock first-expiring
//! first, all lines in one transaction: if any product is short, nothing changes.

use std::collections::BTreeMap;

use bakery_config::db::{self, AsyncPgConnection};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InventoryError;
use crate::models::history::SalesSources;
use crate::models::stock::{self, ItemKind, Movement, MovementReason, StockItem};
use crate::models::{BakeryTimeZone, WriteScope, check_amount, group_by, products};
use crate::pagination::Page;
use crate::schema::{sale_lines, sales};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = sales, check_for_backend(diesel::pg::Pg))]
pub struct Sale {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub sold_at: DateTime<Utc>,
    pub channel: String,
    pub payment_method: String,
    pub total: Decimal,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = sale_lines, check_for_backend(diesel::pg::Pg))]
pub struct SaleLine {
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub id: Uuid,
    #[serde(skip)]
    pub sale_id: Uuid,
    pub product_id: Uuid,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub line_total: Decimal,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SaleView {
    #[serde(flatten)]
    pub sale: Sale,
    pub lines: Vec<SaleLine>,
}

/// `GET /api/sales` filters: the bakery's calendar days (in its time zone), both
/// inclusive; and where the page starts.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SalesFilter {
    /// 1900-01-01..=9999-12-31; not after `to`.
    #[param(pattern = "^(19[0-9]{2}|[2-9][0-9]{3})-")]
    pub from: Option<NaiveDate>,
    /// 1900-01-01..=9999-12-31; not before `from`.
    #[param(pattern = "^(19[0-9]{2}|[2-9][0-9]{3})-")]
    pub to: Option<NaiveDate>,
    /// The `next_cursor` of the page before: the page starts after that sale (keyset
    /// pagination: the cost of a page does not grow with how far into the history it is).
    /// Not together with `offset`.
    #[param(max_length = 64)]
    pub after: Option<String>,
}

/// The largest `offset` a sales page may ask for: deeper pages are asked for with `after`
/// (an offset makes PostgreSQL read and discard every row before the page).
pub const MAX_OFFSET: i64 = 1_000;

/// Where a page of sales starts: after the sale at (`sold_at`, `id`), in the list's order
/// (newest first, then by id, descending). Clients see it as an opaque string,
/// `<microseconds since 1970>.<id>`, and only hand it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SalesCursor {
    sold_at: DateTime<Utc>,
    id: Uuid,
}

impl SalesCursor {
    fn of(sale: &Sale) -> Self {
        SalesCursor {
            sold_at: sale.sold_at,
            id: sale.id,
        }
    }

    pub fn encode(&self) -> String {
        format!("{}.{}", self.sold_at.timestamp_micros(), self.id.simple())
    }

    pub fn parse(text: &str) -> Result<Self, InventoryError> {
        let invalid = || {
            InventoryError::InvalidQuery(
                "after no es válido: usa el next_cursor de la página anterior".to_owned(),
            )
        };
        let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
        let sold_at = micros
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(invalid)?;
        let id = Uuid::try_parse(id).map_err(|_| invalid())?;
        Ok(SalesCursor { sold_at, id })
    }
}

/// A page of sales: `{"items", "limit", "offset", "total", "next_cursor"}` — the shared
/// page envelope, plus where the next page starts (`null` on the last one).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SalesPage {
    pub items: Vec<SaleView>,
    pub limit: i64,
    pub offset: i64,
    /// Sales that match the filter, in every page — counted up to [`MAX_COUNTED`]: past
    /// it, `total` is that many and `total_capped` is `true` (a count must not cost what
    /// years of tickets cost; the pages themselves go on to the end).
    pub total: i64,
    /// Whether there are more than `total` sales.
    pub total_capped: bool,
    /// The `after` of the next page; `null` when this page is the last.
    pub next_cursor: Option<String>,
}

/// The days a sales filter may name.
const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date");
const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date");

/// The most sales a page counts for its `total` (one index range of at most this many
/// entries per source, whatever the size of the history).
pub const MAX_COUNTED: i64 = 10_000;

/// The instants a filter's days span: `[from, until)`, either end open.
#[derive(Debug, Clone, Copy)]
struct SoldBetween {
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl SoldBetween {
    /// The query of the sales in the range, not yet scoped to a tenant (callers name the
    /// tenants).
    fn query(self) -> sales::BoxedQuery<'static, diesel::pg::Pg> {
        let mut q = sales::table.into_boxed();
        if let Some(from) = self.from {
            q = q.filter(sales::sold_at.ge(from));
        }
        if let Some(until) = self.until {
            q = q.filter(sales::sold_at.lt(until));
        }
        q
    }
}

#[derive(diesel::QueryableByName)]
struct Counted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// How many sales of `source` in `range` there are, counting no further than `cap`; of a
/// shared template's, only those sold up to now (as [`from_source`]).
async fn count_up_to(
    c: &mut AsyncPgConnection,
    range: SoldBetween,
    source: Uuid,
    shared: bool,
    cap: i64,
) -> Result<i64, InventoryError> {
    use diesel::sql_types::{Bool, Nullable, Timestamptz, Uuid as SqlUuid};
    Ok(diesel::sql_query(
        "SELECT count(*) AS n FROM (SELECT 1 FROM sales WHERE tenant_id = $1 \
           AND ($2::timestamptz IS NULL OR sold_at >= $2) \
           AND ($3::timestamptz IS NULL OR sold_at < $3) \
           AND (NOT $4 OR sold_at <= now()) LIMIT $5) counted",
    )
    .bind::<SqlUuid, _>(source)
    .bind::<Nullable<Timestamptz>, _>(range.from)
    .bind::<Nullable<Timestamptz>, _>(range.until)
    .bind::<Bool, _>(shared)
    .bind::<diesel::sql_types::BigInt, _>(cap)
    .get_result::<Counted>(c)
    .await?
    .n)
}

/// The filter's day range (days of `zone`), checked.
fn sold_between(f: &SalesFilter, zone: BakeryTimeZone) -> Result<SoldBetween, InventoryError> {
    if let (Some(from), Some(to)) = (f.from, f.to)
        && from > to
    {
        return Err(InventoryError::InvalidQuery(
            "from no puede ser posterior a to".to_owned(),
        ));
    }
    // chrono reads years far outside what PostgreSQL stores (and `to + 1 day` can
    // overflow at chrono's last day): such a filter is a bad request, not a server error
    let in_range = |d: NaiveDate| (FIRST_DAY..=LAST_DAY).contains(&d);
    if f.from.is_some_and(|d| !in_range(d)) || f.to.is_some_and(|d| !in_range(d)) {
        return Err(InventoryError::InvalidQuery(format!(
            "las fechas deben estar entre {FIRST_DAY} y {LAST_DAY}"
        )));
    }
    Ok(SoldBetween {
        from: f.from.map(|from| zone.start_of(from)),
        until: f.to.map(|to| zone.start_of(to + Duration::days(1))),
    })
}

/// `q` limited to the sales of `source` that `sources.own` may see: all of its own, and of
/// a shared template's only those sold up to now (row-level security says the same).
fn from_source(
    q: sales::BoxedQuery<'static, diesel::pg::Pg>,
    sources: &SalesSources,
    source: Uuid,
) -> sales::BoxedQuery<'static, diesel::pg::Pg> {
    let q = q.filter(sales::tenant_id.eq(source));
    if source == sources.own {
        q
    } else {
        q.filter(sales::sold_at.le(diesel::dsl::now))
    }
}

async fn with_lines(
    c: &mut AsyncPgConnection,
    sources: &SalesSources,
    rows: Vec<Sale>,
) -> Result<Vec<SaleView>, InventoryError> {
    let ids: Vec<Uuid> = rows.iter().map(|s| s.id).collect();
    let lines: Vec<SaleLine> = sale_lines::table
        .filter(sale_lines::tenant_id.eq_any(sources.tenants()))
        .filter(sale_lines::sale_id.eq_any(&ids))
        .order(sale_lines::id)
        .select(SaleLine::as_select())
        .load(c)
        .await?;
    let mut by_sale = group_by(lines, |l| l.sale_id);
    Ok(rows
        .into_iter()
        .map(|sale| SaleView {
            lines: by_sale.remove(&sale.id).unwrap_or_default(),
            sale,
        })
        .collect())
}

/// One page of sales, newest first, with lines: from `offset` (at most [`MAX_OFFSET`]) or
/// after the filter's cursor; the filter's days are the bakery's, in `zone`. The index
/// `(tenant_id, sold_at, id)` serves both the range and the cursor, read backwards, for
/// each source of sales ([`SalesSources`]).
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: Uuid,
    zone: BakeryTimeZone,
    filter: &SalesFilter,
    page: Page,
) -> Result<SalesPage, InventoryError> {
    let cursor = filter
        .after
        .as_deref()
        .map(SalesCursor::parse)
        .transpose()?;
    if cursor.is_some() && page.offset > 0 {
        return Err(InventoryError::InvalidQuery(
            "after y offset no se pueden usar juntos".to_owned(),
        ));
    }
    if page.offset > MAX_OFFSET {
        return Err(InventoryError::InvalidQuery(format!(
            "offset no puede pasar de {MAX_OFFSET}: para seguir, usa after con el next_cursor de la página"
        )));
    }
    let range = sold_between(filter, zone)?; // a bad filter is refused before any query
    conn.transaction(async |c| {
        db::scope_to_tenant(c, tenant).await?;
        let sources = SalesSources::of(c, tenant).await?;
        let mut total = 0;
        let mut rows: Vec<Sale> = Vec::new();
        // One ordered index range per source (a virtual tenant has two: its own sales and
        // its template's history), merged here: each gives at most the page's end, so the
        // cost is bounded by offset + limit whatever the size of the history.
        let wanted = page.offset.saturating_add(page.limit).saturating_add(1);
        for source in sources.tenants() {
            let room = MAX_COUNTED + 1 - total;
            if room > 0 {
                total += count_up_to(c, range, source, source != sources.own, room).await?;
            }
            let mut q = from_source(range.query(), &sources, source);
            if let Some(cur) = cursor.as_ref() {
                q = q.filter(
                    sales::sold_at
                        .lt(cur.sold_at)
                        .or(sales::sold_at.eq(cur.sold_at).and(sales::id.lt(cur.id))),
                );
            }
            rows.extend(
                q.order((sales::sold_at.desc(), sales::id.desc()))
                    .limit(wanted)
                    .select(Sale::as_select())
                    .load::<Sale>(c)
                    .await?,
            );
        }
        rows.sort_unstable_by_key(|s| std::cmp::Reverse((s.sold_at, s.id)));
        let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        // one more than the page: whether a next page exists, without counting what is left
        let mut rows: Vec<Sale> = rows
            .into_iter()
            .skip(skip)
            .take(limit.saturating_add(1))
            .collect();
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = rows
            .last()
            .filter(|_| more)
            .map(|last| SalesCursor::of(last).encode());
        let items = with_lines(c, &sources, rows).await?;
        Ok(SalesPage {
            items,
            limit: page.limit,
            offset: page.offset,
            total: total.min(MAX_COUNTED),
            total_capped: total > MAX_COUNTED,
            next_cursor,
        })
    })
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    Card,
    Bizum,
    Other,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::Bizum => "bizum",
            PaymentMethod::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PosLineRequest {
    pub product_id: Uuid,
    /// More than 0 (rounded to 3 decimals, so at least 0.001), at most 1000000.
    #[schema(minimum = 0.001, maximum = 1_000_000)]
    pub quantity: Decimal,
    /// Defaults to the product's `sale_price`; 0..=100000 (rounded to 2 decimals).
    #[schema(minimum = 0, maximum = 100_000)]
    pub unit_price: Option<Decimal>,
}

/// `POST /api/pos/sales` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PosSaleRequest {
    /// 1 to 100 lines.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<PosLineRequest>,
    pub payment_method: PaymentMethod,
}

pub const MAX_LINES: usize = 100;
const MAX_PRICE: Decimal = Decimal::from_parts(100_000, 0, 0, false, 0);

/// A validated POS sale.
#[derive(Debug, Clone)]
pub struct PosSale {
    pub lines: Vec<PosLineRequest>,
    pub payment_method: PaymentMethod,
}

impl TryFrom<PosSaleRequest> for PosSale {
    type Error = InventoryError;
    fn try_from(r: PosSaleRequest) -> Result<Self, InventoryError> {
        if r.lines.is_empty() || r.lines.len() > MAX_LINES {
            return Err(InventoryError::Invalid(format!(
                "una venta tiene entre 1 y {MAX_LINES} líneas"
            )));
        }
        let mut lines = Vec::with_capacity(r.lines.len());
        for l in r.lines {
            let quantity = stock::positive_quantity(l.quantity, "quantity")?;
            let unit_price = match l.unit_price {
                None => None,
                Some(p) => {
                    let p = p.round_dp(2);
                    if p < Decimal::ZERO || p > MAX_PRICE {
                        return Err(InventoryError::Invalid(format!(
                            "unit_price debe estar entre 0 y {MAX_PRICE}"
                        )));
                    }
                    Some(p)
                }
            };
            lines.push(PosLineRequest {
                product_id: l.product_id,
                quantity,
                unit_price,
            });
        }
        Ok(PosSale {
            lines,
            payment_method: r.payment_method,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductStock {
    pub product_id: Uuid,
    pub on_hand: Decimal,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PosSaleOutcome {
    pub sale: SaleView,
    /// Stock on hand of every product sold, after the sale.
    pub stock: Vec<ProductStock>,
}

/// Records a POS sale and takes its stock (see the module docs).
pub async fn sell(
    conn: &mut AsyncPgConnection,
    scope: impl Into<WriteScope>,
    order: &PosSale,
) -> Result<PosSaleOutcome, InventoryError> {
    let scope = scope.into();
    let tenant = scope.tenant;
    conn.transaction(async |c| {
        scope.enter(c).await?;
        let sale_id = Uuid::new_v4();
        let (lines, needed) = priced_lines(c, tenant, sale_id, order).await?;
        take_stock(c, tenant, sale_id, &needed).await?;
        let now = Utc::now();
        let sale = Sale {
            tenant_id: tenant,
            id: sale_id,
            sold_at: now,
            channel: "pos".to_owned(),
            payment_method: order.payment_method.as_str().to_owned(),
            total: check_amount(lines.iter().map(|l| l.line_total).sum(), "el importe")?,
            created_at: now,
        };
        diesel::insert_into(sales::table)
            .values(&sale)
            .execute(c)
            .await?;
        diesel::insert_into(sale_lines::table)
            .values(&lines)
            .execute(c)
            .await?;
        let stock = stock_after(c, tenant, needed.into_keys().collect()).await?;
        Ok(PosSaleOutcome {
            sale: SaleView { sale, lines },
            stock,
        })
    })
    .await
}

/// What a sale takes of one product: how much, and the product's name for
/// `insufficient_stock`.
struct Need {
    name: String,
    quantity: Decimal,
}

/// The sale's lines, priced (the product's `sale_price` unless the line names a price),
/// and what they take of each product, by product id. Inside a scoped transaction.
async fn priced_lines(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    sale_id: Uuid,
    order: &PosSale,
) -> Result<(Vec<SaleLine>, BTreeMap<Uuid, Need>), InventoryError> {
    let mut needed: BTreeMap<Uuid, Need> = BTreeMap::new();
    let mut lines = Vec::with_capacity(order.lines.len());
    for l in &order.lines {
        let product = products::find_in_tx(c, tenant, l.product_id)
            .await?
            .ok_or(InventoryError::UnknownReference("product"))?;
        let unit_price = l.unit_price.unwrap_or(product.product.sale_price);
        needed
            .entry(l.product_id)
            .or_insert_with(|| Need {
                name: product.product.name.clone(),
                quantity: Decimal::ZERO,
            })
            .quantity += l.quantity;
        lines.push(SaleLine {
            tenant_id: tenant,
            id: Uuid::new_v4(),
            sale_id,
            product_id: l.product_id,
            quantity: l.quantity,
            unit_price,
            line_total: check_amount((l.quantity * unit_price).round_dp(2), "el importe")?,
        });
    }
    Ok((lines, needed))
}

/// Takes what the sale needs of each product, first-expiring lots first. Inside a scoped
/// transaction, which a short product rolls back.
async fn take_stock(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    sale_id: Uuid,
    needed: &BTreeMap<Uuid, Need>,
) -> Result<(), InventoryError> {
    // one take per product, in id order, so concurrent sales lock lots in one order
    for (product_id, need) in needed {
        stock::consume_fifo(
            c,
            tenant,
            StockItem::Product(*product_id),
            &need.name,
            need.quantity,
            Movement {
                reason: MovementReason::Sale,
                reference_id: Some(sale_id),
                note: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// Stock on hand of each of the products sold (in id order). Inside a scoped transaction.
async fn stock_after(
    c: &mut AsyncPgConnection,
    tenant: Uuid,
    ids: Vec<Uuid>,
) -> Result<Vec<ProductStock>, InventoryError> {
    let on_hand = stock::on_hand_of(c, tenant, ItemKind::Product, &ids).await?;
    Ok(ids
        .into_iter()
        .map(|product_id| ProductStock {
            product_id,
            on_hand: on_hand.get(&product_id).copied().unwrap_or_default(),
        })
        .collect())
}
