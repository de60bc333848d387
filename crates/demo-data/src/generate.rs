//! From a bakery's data file and the seed day to every inventory row of its template.
//!
//! Everything is a pure function of the file and `today`: ids are UUID v5 of stable keys,
//! and each calendar day's tickets come from a PRNG seeded with the file's seed and that
//! day, so the same day always gets the same tickets — whether it is generated as today's
//! day in progress or, after midnight, as yesterday — and re-seeding a day later only
//! slides the window.
//!
//! The till ([`day_sales`]): each product's units of the day are
//! `daily_units × weekday factor × season × noise`, cut into ticket lines of a few units;
//! each line gets a moment of the opening hours from its category's hourly rhythm, and
//! lines next to each other in time make one ticket of 1–5 lines. So every product sells
//! what its `daily_units` says (forecasts and production keep their meaning), the number
//! of tickets follows from the units, and a morning ticket mixes what sells in the morning
//! (coffee and a croissant) while an evening one is the bread run.
//!
//! Times in the file are local (Europe/Madrid, [`crate::clock`]) and stored in UTC.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::json;

use crate::accounts::DemoAccount;
use crate::catalog::{
    Bakery, DataError, HourWeights, LotData, OpeningHours, OrderData, OrderState, PaymentMethod,
    ProductData, RecipeData, Secs, StandingOrder, SupplierData,
};
use crate::clock::local_instant;
use crate::ids::Ids;
use crate::rng::SplitMix64;
use crate::rows::*;

/// Every generated ticket is a till (point of sale) ticket.
pub const CHANNEL: &str = "pos";

/// Money: 2 decimals.
fn money(d: Decimal) -> Decimal {
    d.round_dp(2)
}

/// Quantities: 3 decimals (the columns' scale, so rows read back equal).
fn qty(d: Decimal) -> Decimal {
    d.round_dp(3)
}

/// Whole units from a count the generator computed in floating point: every caller rounds
/// it (or takes its ceiling) first.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a whole, positive count of a catalog's units; past u32::MAX `as` saturates"
)]
fn whole_units(units: f64) -> u32 {
    units as u32
}

/// `time` (local) on `day`, in UTC.
fn at(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    local_instant(day, time)
}

fn hm(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN)
}

/// The weekday factor of `day` (Monday first).
pub fn weekday_factor(bakery: &Bakery, day: NaiveDate) -> f64 {
    let index = day.weekday().num_days_from_monday() as usize;
    bakery
        .sales
        .weekday_factors
        .get(index)
        .copied()
        .unwrap_or(1.0)
}

/// The opening hours of `day`.
pub fn opening(bakery: &Bakery, day: NaiveDate) -> &OpeningHours {
    let index = day.weekday().num_days_from_monday() as usize;
    static CLOSED: OpeningHours = OpeningHours(Vec::new());
    bakery.sales.opening.get(index).unwrap_or(&CLOSED)
}

/// What `product` sells on an average `day` like this one: its daily units, times the
/// weekday factor, times its season (0 out of season, the peak factor on a peak day).
/// Every day's units are drawn around this, and production and forecasts read it.
pub fn expected_units(bakery: &Bakery, product: &ProductData, day: NaiveDate) -> f64 {
    let season = product.season.as_ref().map_or(1.0, |s| s.factor(day));
    f64::from(product.daily_units) * weekday_factor(bakery, day) * season
}

/// One line of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketLine {
    /// Index in the bakery's products.
    pub product: usize,
    pub units: u32,
}

/// One ticket of the till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// 1, 2, … in the day's order: the ticket's number on that day.
    pub number: u32,
    pub sold_at: DateTime<Utc>,
    pub payment_method: PaymentMethod,
    pub lines: Vec<TicketLine>,
}

/// One calendar day of the till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySales {
    pub day: NaiveDate,
    /// In the order they were rung up.
    pub tickets: Vec<Ticket>,
}

impl DaySales {
    pub fn units_of(&self, product: usize) -> u32 {
        self.lines()
            .filter(|l| l.product == product)
            .map(|l| l.units)
            .sum()
    }

    pub fn lines(&self) -> impl Iterator<Item = &TicketLine> {
        self.tickets.iter().flat_map(|t| t.lines.iter())
    }
}

/// The tickets of the `sales.days` days before `today` and of `today`'s whole day (the
/// service shows only those already rung up), oldest first.
pub fn sales_history(bakery: &Bakery, today: NaiveDate) -> Vec<DaySales> {
    (0..=i64::from(bakery.sales.days))
        .rev()
        .map(|back| day_sales(bakery, today - Duration::days(back)))
        .collect()
}

/// The moments of one day when one category of product sells: the open parts of each
/// hour, each weighted by its hour's weight and how much of the hour is open.
struct Moments(Vec<(Secs, Secs, f64)>);

impl Moments {
    fn new(hours: &HourWeights, opening: &OpeningHours) -> Self {
        let mut parts = Vec::new();
        for &(opens, closes) in &opening.0 {
            for hour in opens / 3600..closes.div_ceil(3600) {
                let from = opens.max(hour * 3600);
                let to = closes.min((hour + 1) * 3600);
                let weight = hours.0.get(hour as usize).copied().unwrap_or(0.0);
                if to > from && weight > 0.0 {
                    parts.push((from, to, weight * f64::from(to - from) / 3600.0));
                }
            }
        }
        Moments(parts)
    }

    /// A moment drawn with `r` (which part) and `s` (where in it), both in `[0, 1)`.
    fn pick(&self, r: f64, s: f64) -> Option<Secs> {
        let total: f64 = self.0.iter().map(|p| p.2).sum();
        let mut cumulative = 0.0;
        let mut chosen = self.0.last();
        for part in &self.0 {
            cumulative += part.2 / total;
            if r < cumulative {
                chosen = Some(part);
                break;
            }
        }
        chosen.map(|&(from, to, _)| from + whole_units((f64::from(to - from) * s).floor()))
    }
}

/// `x` rounded up with probability its fraction: unbiased, so small daily units (a tortell
/// or two) still average out to what the file says.
fn round_randomly(x: f64, r: f64) -> u32 {
    let floor = x.max(0.0).floor();
    whole_units(floor + f64::from(u8::from(r < x - floor)))
}

/// One calendar day of tickets. Depends only on the file and `day` (its own PRNG stream),
/// never on the day the seed runs.
pub fn day_sales(bakery: &Bakery, day: NaiveDate) -> DaySales {
    let plan = &bakery.sales;
    let mut rng = SplitMix64::for_stream(plan.seed, day.num_days_from_ce().unsigned_abs().into());
    let opening = opening(bakery, day);
    let day_factor = 1.0 + plan.day_noise * rng.next_signed();
    // every product's units, cut into lines, each at a moment of the day: (moment, product,
    // units), sorted by moment
    let mut lines: Vec<(Secs, usize, u32)> = Vec::new();
    for (index, p) in bakery.products.iter().enumerate() {
        let noise = 1.0 + plan.noise * rng.next_signed();
        let mut left = round_randomly(
            expected_units(bakery, p, day) * day_factor * noise,
            rng.next_f64(),
        );
        let Some(hours) = plan.hours_of(&p.category) else {
            continue;
        };
        let moments = Moments::new(hours, opening);
        let quantities = p.quantities.as_ref().unwrap_or(&plan.quantities);
        while left > 0 {
            let units = quantities.pick(rng.next_f64()).clamp(1, left);
            left -= units;
            let Some(moment) = moments.pick(rng.next_f64(), rng.next_f64()) else {
                break;
            };
            lines.push((moment, index, units));
        }
    }
    lines.sort_unstable();
    // lines next to each other in time: one ticket of 1–5 lines (the same product twice
    // on a ticket is one line)
    let mut tickets = Vec::new();
    let mut rest = lines.as_slice();
    while let Some(&(moment, _, _)) = rest.first() {
        let size = plan.lines.pick(rng.next_f64()) as usize;
        let (these, others) = rest.split_at(size.min(rest.len()));
        rest = others;
        let mut ticket_lines: Vec<TicketLine> = Vec::new();
        for &(_, product, units) in these {
            match ticket_lines.iter_mut().find(|l| l.product == product) {
                Some(line) => line.units += units,
                None => ticket_lines.push(TicketLine { product, units }),
            }
        }
        let number = u32::try_from(tickets.len() + 1).unwrap_or(u32::MAX);
        let time =
            NaiveTime::from_num_seconds_from_midnight_opt(moment, 0).unwrap_or(NaiveTime::MIN);
        tickets.push(Ticket {
            number,
            sold_at: at(day, time),
            payment_method: pick_payment(bakery, rng.next_f64()),
            lines: ticket_lines,
        });
    }
    DaySales { day, tickets }
}

fn pick_payment(bakery: &Bakery, r: f64) -> PaymentMethod {
    let mut cumulative = 0.0;
    let mut last = PaymentMethod::Card;
    for (&method, &share) in &bakery.sales.payments {
        cumulative += share;
        last = method;
        if r < cumulative {
            return method;
        }
    }
    last
}

/// Every inventory row of `account`'s template, sorted by id.
pub fn inventory_rows(
    account: &DemoAccount,
    bakery: &Bakery,
    today: NaiveDate,
) -> Result<InventoryRows, DataError> {
    let g = Generator {
        ids: Ids::new(account.tenant_id),
        file: &account.data,
        bakery,
        today,
    };
    let mut rows = InventoryRows::default();
    g.catalog(&mut rows);
    g.stock(&mut rows);
    let history = sales_history(bakery, today);
    g.sales(&history, &mut rows);
    g.production(&history, &mut rows);
    g.orders(&mut rows)?;
    g.forecasts(&mut rows);
    rows.sort();
    Ok(rows)
}

struct Generator<'a> {
    ids: Ids,
    file: &'a str,
    bakery: &'a Bakery,
    today: NaiveDate,
}

impl Generator<'_> {
    fn tenant(&self) -> uuid::Uuid {
        self.ids.tenant()
    }

    fn day(&self, offset: i64) -> NaiveDate {
        self.today + Duration::days(offset)
    }

    fn supplier_id(&self, name: &str) -> uuid::Uuid {
        self.ids.of("supplier", name)
    }

    fn ingredient_id(&self, name: &str) -> uuid::Uuid {
        self.ids.of("ingredient", name)
    }

    fn product_id(&self, name: &str) -> uuid::Uuid {
        self.ids.of("product", name)
    }

    fn catalog(&self, rows: &mut InventoryRows) {
        let t = self.tenant();
        rows.suppliers = self
            .bakery
            .suppliers
            .iter()
            .map(|s: &SupplierData| Supplier {
                tenant_id: t,
                id: self.supplier_id(&s.name),
                name: s.name.clone(),
                kind: s.kind.as_str().to_owned(),
                contact_name: s.contact_name.clone(),
                email: s.email.clone(),
                phone: s.phone.clone(),
                city: s.city.clone(),
                lead_time_days: s.lead_time_days,
            })
            .collect();
        rows.ingredients = self
            .bakery
            .ingredients
            .iter()
            .map(|i| Ingredient {
                tenant_id: t,
                id: self.ingredient_id(&i.name),
                name: i.name.clone(),
                category: i.category.clone(),
                unit: i.unit.as_str().to_owned(),
                unit_cost: i.unit_cost.round_dp(4),
                reorder_point: qty(i.reorder_point),
                reorder_quantity: qty(i.reorder_quantity),
                allergens: i.allergens.clone(),
                supplier_id: i.supplier.as_deref().map(|s| self.supplier_id(s)),
            })
            .collect();
        rows.products = self
            .bakery
            .products
            .iter()
            .map(|p| Product {
                tenant_id: t,
                id: self.product_id(&p.name),
                name: p.name.clone(),
                kind: p.kind.as_str().to_owned(),
                category: p.category.clone(),
                unit: p.unit.as_str().to_owned(),
                sale_price: money(p.sale_price),
                purchase_cost: p.purchase_cost.map(|c| c.round_dp(4)),
                supplier_id: p.supplier.as_deref().map(|s| self.supplier_id(s)),
                shelf_life_days: p.shelf_life_days,
                season_from: p.season.as_ref().map(|s| s.from),
                season_to: p.season.as_ref().map(|s| s.to),
            })
            .collect();
        for p in &self.bakery.products {
            if let Some(recipe) = &p.recipe {
                self.recipe(p, recipe, rows);
            }
        }
    }

    fn recipe(&self, p: &ProductData, recipe: &RecipeData, rows: &mut InventoryRows) {
        let t = self.tenant();
        let recipe_id = self.ids.of("recipe", &p.name);
        rows.recipes.push(Recipe {
            tenant_id: t,
            id: recipe_id,
            product_id: self.product_id(&p.name),
            name: p.name.clone(),
            yield_quantity: qty(recipe.yield_quantity),
            prep_minutes: recipe.prep_minutes,
            instructions: recipe.instructions.clone(),
        });
        for (ingredient, quantity) in &recipe.lines {
            rows.recipe_lines.push(RecipeLine {
                tenant_id: t,
                id: self
                    .ids
                    .of("recipe_line", &format!("{}/{ingredient}", p.name)),
                recipe_id,
                ingredient_id: self.ingredient_id(ingredient),
                quantity: quantity.round_dp(4),
            });
        }
    }

    /// Stock lots, each with the movements that explain its quantity: what came in, and
    /// (when some is gone) one movement for what was used or sold since.
    fn stock(&self, rows: &mut InventoryRows) {
        for i in &self.bakery.ingredients {
            let item = Item {
                name: &i.name,
                ingredient: Some(self.ingredient_id(&i.name)),
                product: None,
                unit_cost: i.unit_cost,
                shelf_life_days: i64::from(i.shelf_life_days),
                reorder_quantity: i.reorder_quantity,
                made_in_house: i.supplier.is_none(),
            };
            self.lots(&item, &i.lots, rows);
        }
        for p in &self.bakery.products {
            let item = Item {
                name: &p.name,
                ingredient: None,
                product: Some(self.product_id(&p.name)),
                unit_cost: p.purchase_cost.unwrap_or_default(),
                shelf_life_days: i64::from(p.shelf_life_days),
                reorder_quantity: Decimal::from(p.standing_order.unwrap_or(0)),
                made_in_house: p.supplier.is_none(),
            };
            self.lots(&item, &p.lots, rows);
        }
    }

    fn lots(&self, item: &Item<'_>, lots: &[LotData], rows: &mut InventoryRows) {
        let code = item
            .ingredient
            .or(item.product)
            .map(|id| id.simple().to_string().to_uppercase())
            .unwrap_or_default();
        let code = code.get(..4).unwrap_or("LOTE");
        for (n, lot) in lots.iter().enumerate() {
            let key = format!("{}#{}", item.name, n + 1);
            let received = self.day(lot.received);
            let stock_lot = StockLot {
                tenant_id: self.tenant(),
                id: self.ids.of("lot", &key),
                ingredient_id: item.ingredient,
                product_id: item.product,
                lot_code: format!("L{}-{code}-{}", received.format("%y%m%d"), n + 1),
                quantity: qty(lot.left),
                initial_quantity: qty(lot.initial.unwrap_or(item.reorder_quantity.max(lot.left))),
                unit_cost: item.unit_cost.round_dp(4),
                received_at: at(received, hm(8, 0)),
                expires_at: Some(received + Duration::days(item.shelf_life_days)),
            };
            self.lot_movements(item, &key, &stock_lot, rows);
            rows.stock_lots.push(stock_lot);
        }
    }

    /// The movements that explain a lot's quantity: what came in, and (when some is gone)
    /// one movement for what was used or sold since.
    fn lot_movements(&self, item: &Item<'_>, key: &str, lot: &StockLot, rows: &mut InventoryRows) {
        let movement =
            |suffix: &str, delta: Decimal, reason: &str, note: &str, when| StockMovement {
                tenant_id: lot.tenant_id,
                id: self.ids.of("movement", &format!("{key}:{suffix}")),
                lot_id: Some(lot.id),
                ingredient_id: item.ingredient,
                product_id: item.product,
                quantity_delta: delta,
                reason: reason.to_owned(),
                reference_id: None,
                note: Some(note.to_owned()),
                created_at: when,
            };
        let (initial, left) = (lot.initial_quantity, lot.quantity);
        if initial > Decimal::ZERO {
            let (reason, note) = if item.made_in_house {
                ("production_output", "Elaborado en el obrador")
            } else {
                ("delivery", "Recepción de mercancía")
            };
            rows.stock_movements
                .push(movement("in", initial, reason, note, lot.received_at));
        }
        if left < initial {
            let (reason, note) = if item.ingredient.is_some() {
                ("production_use", "Consumo en producción (acumulado)")
            } else {
                ("sale", "Horneado y vendido (acumulado)")
            };
            let when = lot.received_at.max(at(self.day(-1), hm(20, 0)));
            rows.stock_movements
                .push(movement("out", left - initial, reason, note, when));
        }
    }

    /// One sale per ticket, one sale line per ticket line; ids from the day and the
    /// ticket's number (`sale:2026-11-24#17`, `sale_line:2026-11-24#17/2`).
    fn sales(&self, history: &[DaySales], rows: &mut InventoryRows) {
        let t = self.tenant();
        let products: Vec<(uuid::Uuid, Decimal)> = self
            .bakery
            .products
            .iter()
            .map(|p| (self.product_id(&p.name), money(p.sale_price)))
            .collect();
        for day in history {
            for ticket in &day.tickets {
                let key = format!("{}#{}", day.day, ticket.number);
                let sale_id = self.ids.of("sale", &key);
                let mut total = Decimal::ZERO;
                for (k, line) in ticket.lines.iter().enumerate() {
                    let Some(&(product_id, unit_price)) = products.get(line.product) else {
                        continue;
                    };
                    let quantity = Decimal::from(line.units);
                    let line_total = money(quantity * unit_price);
                    total += line_total;
                    rows.sale_lines.push(SaleLine {
                        tenant_id: t,
                        id: self.ids.of("sale_line", &format!("{key}/{}", k + 1)),
                        sale_id,
                        product_id,
                        quantity,
                        unit_price,
                        line_total,
                    });
                }
                rows.sales.push(Sale {
                    tenant_id: t,
                    id: sale_id,
                    sold_at: ticket.sold_at,
                    channel: CHANNEL.to_owned(),
                    payment_method: ticket.payment_method.as_str().to_owned(),
                    total,
                });
            }
        }
    }

    /// The workshop's bakes, at `production.time` (before opening): completed for the last
    /// `history_days` days and for today, each what that day's tickets sell plus the
    /// surplus (today's bake is done before the first ticket, and the day's tickets are
    /// known, so the shelf never sells more than was baked); tomorrow's bake planned for
    /// an average day like it.
    fn production(&self, history: &[DaySales], rows: &mut InventoryRows) {
        let Some(plan) = &self.bakery.production else {
            return;
        };
        let t = self.tenant();
        let with_surplus = |units: f64| (units * (1.0 + plan.surplus)).ceil().max(1.0);
        // history ends with today
        let recent = history.iter().rev().take(plan.history_days as usize + 1);
        let tomorrow = self.day(1);
        for (index, p) in self.bakery.products.iter().enumerate() {
            if p.recipe.is_none() {
                continue;
            }
            let mut push = |day: NaiveDate, units: f64, status: &str| {
                rows.production_batches.push(ProductionBatch {
                    tenant_id: t,
                    id: self.ids.of("batch", &format!("{}#{day}", p.name)),
                    recipe_id: self.ids.of("recipe", &p.name),
                    product_id: self.product_id(&p.name),
                    quantity: qty(Decimal::from(whole_units(with_surplus(units)))),
                    status: status.to_owned(),
                    produced_at: at(day, plan.time.0),
                });
            };
            for day in recent.clone() {
                let sold = day.units_of(index);
                if sold > 0 {
                    push(day.day, f64::from(sold), "completed");
                }
            }
            let expected = expected_units(self.bakery, p, tomorrow);
            if expected > 0.0 {
                push(tomorrow, expected, "planned");
            }
        }
    }

    fn orders(&self, rows: &mut InventoryRows) -> Result<(), DataError> {
        for o in &self.bakery.orders {
            self.order(o, rows)?;
        }
        if let Some(standing) = &self.bakery.standing_order {
            self.standing_orders(standing, rows);
        }
        Ok(())
    }

    /// One order of the data file, with its lines and, once sent, its delivery.
    fn order(&self, o: &OrderData, rows: &mut InventoryRows) -> Result<(), DataError> {
        let order_id = self.ids.of("order", &o.reference);
        let expected = self.day(o.expected);
        let total = self.order_lines(o, order_id, rows)?;
        let delivered_at = (o.status == OrderState::Delivered).then(|| at(expected, hm(7, 40)));
        let status = match o.status {
            OrderState::Late => OrderState::InTransit,
            other => other,
        };
        rows.purchase_orders.push(PurchaseOrder {
            tenant_id: self.tenant(),
            id: order_id,
            supplier_id: self.supplier_id(&o.supplier),
            reference: o.reference.clone(),
            status: status.as_str().to_owned(),
            source: "manual".to_owned(),
            ordered_at: at(self.day(o.ordered), hm(8, 15)),
            expected_at: expected,
            delivered_at,
            total: money(total),
            notes: o.notes.clone(),
        });
        let delivery_status = match status {
            OrderState::Pending => Some("scheduled"),
            OrderState::InTransit | OrderState::Late => Some("in_transit"),
            OrderState::Delivered => Some("delivered"),
            OrderState::Draft | OrderState::Cancelled => None,
        };
        if let Some(delivery_status) = delivery_status {
            rows.deliveries.push(Delivery {
                tenant_id: self.tenant(),
                id: self.ids.of("delivery", &o.reference),
                order_id,
                status: delivery_status.to_owned(),
                carrier: o.carrier.clone(),
                tracking_code: o.tracking_code.clone(),
                eta: at(expected, hm(7, 0)),
                delivered_at,
            });
        }
        Ok(())
    }

    /// The lines of one order of the data file; answers the order's total (each line's
    /// amount rounded to cents, as an invoice adds them up).
    fn order_lines(
        &self,
        o: &OrderData,
        order_id: uuid::Uuid,
        rows: &mut InventoryRows,
    ) -> Result<Decimal, DataError> {
        let mut total = Decimal::ZERO;
        for (item, quantity) in &o.lines {
            let (ingredient_id, product_id, unit_cost) = self.orderable(item).ok_or_else(|| {
                DataError::new(self.file, format!("order {}: unknown {item}", o.reference))
            })?;
            let quantity = qty(*quantity);
            total += money(quantity * unit_cost);
            rows.purchase_order_lines.push(PurchaseOrderLine {
                tenant_id: self.tenant(),
                id: self
                    .ids
                    .of("order_line", &format!("{}/{item}", o.reference)),
                order_id,
                ingredient_id,
                product_id,
                quantity,
                unit_cost,
            });
        }
        Ok(total)
    }

    /// (ingredient id, product id, unit cost) of something that can be ordered.
    fn orderable(&self, name: &str) -> Option<(Option<uuid::Uuid>, Option<uuid::Uuid>, Decimal)> {
        if let Some(i) = self.bakery.ingredient(name) {
            return Some((
                Some(self.ingredient_id(name)),
                None,
                i.unit_cost.round_dp(4),
            ));
        }
        self.bakery.product(name).map(|p| {
            let cost = p.purchase_cost.unwrap_or_default().round_dp(4);
            (None, Some(self.product_id(name)), cost)
        })
    }

    /// The nightly order to the central baker: delivered up to today, tomorrow's pending.
    fn standing_orders(&self, standing: &StandingOrder, rows: &mut InventoryRows) {
        let t = self.tenant();
        for offset in -i64::from(standing.history_days)..=1 {
            let day = self.day(offset);
            let order_id = self.ids.of("order", &format!("standing:{day}"));
            let reference = format!("{}-{}", standing.reference_prefix, day.format("%Y%m%d"));
            let factor = weekday_factor(self.bakery, day);
            let mut total = Decimal::ZERO;
            for p in &self.bakery.products {
                let units = match (p.standing_order, &p.season) {
                    (Some(usual), _) => (f64::from(usual) * factor).round().max(1.0),
                    // a seasonal sweet from the same obrador is on the order in its season,
                    // for what the day is expected to sell (peaks included)
                    (None, Some(_)) if p.supplier.as_deref() == Some(&standing.supplier) => {
                        match expected_units(self.bakery, p, day).ceil() {
                            units if units > 0.0 => units,
                            _ => continue,
                        }
                    }
                    _ => continue,
                };
                let quantity = Decimal::from(whole_units(units));
                let unit_cost = p.purchase_cost.unwrap_or_default().round_dp(4);
                total += money(quantity * unit_cost);
                rows.purchase_order_lines.push(PurchaseOrderLine {
                    tenant_id: t,
                    id: self
                        .ids
                        .of("order_line", &format!("standing:{day}/{}", p.name)),
                    order_id,
                    ingredient_id: None,
                    product_id: Some(self.product_id(&p.name)),
                    quantity,
                    unit_cost,
                });
            }
            let eta = at(day, standing.delivery_time.0);
            let delivered = offset <= 0;
            let delivered_at = delivered.then_some(eta + Duration::minutes(10));
            rows.purchase_orders.push(PurchaseOrder {
                tenant_id: t,
                id: order_id,
                supplier_id: self.supplier_id(&standing.supplier),
                reference,
                status: if delivered { "delivered" } else { "pending" }.to_owned(),
                source: "procurement".to_owned(),
                ordered_at: at(day - Duration::days(1), standing.ordered_time.0),
                expected_at: day,
                delivered_at,
                total: money(total),
                notes: "Pedido diario al obrador central".to_owned(),
            });
            rows.deliveries.push(Delivery {
                tenant_id: t,
                id: self.ids.of("delivery", &format!("standing:{day}")),
                order_id,
                status: if delivered { "delivered" } else { "scheduled" }.to_owned(),
                carrier: standing.carrier.clone(),
                tracking_code: None,
                eta,
                delivered_at,
            });
        }
    }

    /// One fake forecasting model per product: "trained" last night, no model file.
    fn forecasts(&self, rows: &mut InventoryRows) {
        let t = self.tenant();
        let forecast = &self.bakery.forecast;
        for p in &self.bakery.products {
            let id = self.ids.of("forecast", &p.name);
            let mut rng = SplitMix64::for_stream(self.bakery.sales.seed, id.as_u64_pair().0);
            let mape = ((0.06 + 0.14 * rng.next_f64()) * 1000.0).round() / 1000.0;
            let mae = (mape * f64::from(p.daily_units) * 100.0).round() / 100.0;
            rows.forecast_models.push(ForecastModel {
                tenant_id: t,
                id,
                product_id: self.product_id(&p.name),
                algorithm: forecast.algorithm.clone(),
                status: "trained".to_owned(),
                is_fake: true,
                model_uri: None,
                metrics: json!({
                    "mape": mape,
                    "mae": mae,
                    "training_days": self.bakery.sales.days,
                    "horizon_days": 14,
                    "note": "Modelo de demostración: no hay fichero de modelo detrás",
                }),
                trained_at: at(self.day(-1), forecast.trained_time.0),
            });
        }
    }
}

/// What the stock of one ingredient or product needs to know.
struct Item<'a> {
    name: &'a str,
    ingredient: Option<uuid::Uuid>,
    product: Option<uuid::Uuid>,
    unit_cost: Decimal,
    shelf_life_days: i64,
    reorder_quantity: Decimal,
    made_in_house: bool,
}

/// The cost of one unit of a recipe's product: its ingredients for one batch over the
/// batch's yield.
pub fn recipe_unit_cost(bakery: &Bakery, recipe: &RecipeData) -> Option<Decimal> {
    let batch: Option<Decimal> = recipe
        .lines
        .iter()
        .map(|(name, quantity)| bakery.ingredient(name).map(|i| i.unit_cost * quantity))
        .sum();
    let unit = batch? / recipe.yield_quantity;
    Some(unit.round_dp(4))
}

/// A ticket's amount, for reports and tests.
pub fn ticket_total(bakery: &Bakery, ticket: &Ticket) -> f64 {
    ticket
        .lines
        .iter()
        .filter_map(|l| {
            let p = bakery.products.get(l.product)?;
            (money(p.sale_price) * Decimal::from(l.units)).to_f64()
        })
        .sum()
}

/// A day's takings, for reports and tests.
pub fn day_total(bakery: &Bakery, day: &DaySales) -> f64 {
    day.tickets.iter().map(|t| ticket_total(bakery, t)).sum()
}

#[cfg(test)]
#[expect(
    clippy::cast_precision_loss,
    reason = "averages of counts far below 2^52"
)]
mod tests {
    use std::collections::{BTreeMap, HashMap, HashSet};

    use chrono::{NaiveDateTime, Timelike};

    use super::*;
    use crate::accounts::load;
    use crate::clock::BAKERY_TIME_ZONE;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    /// A seed day whose 90 days hold Todos los Santos and the end of summer time (25
    /// October 2026).
    fn today() -> NaiveDate {
        date(2026, 11, 25)
    }

    fn bakeries() -> Vec<(DemoAccount, Bakery)> {
        load()
            .expect("accounts")
            .into_iter()
            .map(|a| {
                let b = a.bakery().expect("bakery");
                (a, b)
            })
            .collect()
    }

    fn bakery(file: &str) -> Bakery {
        crate::catalog::bakery(file).expect("bakery")
    }

    fn local(t: DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&BAKERY_TIME_ZONE.tz()).naive_local()
    }

    fn product_index(b: &Bakery, name: &str) -> usize {
        b.products
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("no product {name}"))
    }

    fn mean(values: impl Iterator<Item = f64>) -> f64 {
        let (sum, n) = values.fold((0.0, 0.0), |(s, n), v| (s + v, n + 1.0));
        sum / n
    }

    #[test]
    fn generation_is_deterministic_and_small() {
        // autumn, Reyes (the busiest weeks of the year) and summer
        let days = [today(), date(2027, 1, 7), date(2027, 7, 15)];
        for ((account, bakery), day) in bakeries()
            .into_iter()
            .flat_map(|b| days.map(|d| (b.clone(), d)))
        {
            let started = std::time::Instant::now();
            let a = inventory_rows(&account, &bakery, day).expect("rows");
            let took = started.elapsed();
            let b = inventory_rows(&account, &bakery, day).expect("rows");
            assert_eq!(a, b);
            eprintln!(
                "{} on {day}: {} rows in {took:?} ({} sales, {} sale lines; the rest: {} rows, {} lots, \
                 {} movements, {} batches, {} orders, {} order lines)",
                account.name,
                a.len(),
                a.sales.len(),
                a.sale_lines.len(),
                a.len_without_sales(),
                a.stock_lots.len(),
                a.stock_movements.len(),
                a.production_batches.len(),
                a.purchase_orders.len(),
                a.purchase_order_lines.len()
            );
            // sessions copy everything but the tickets: that part stays small
            assert!(
                a.len_without_sales() <= 5_000,
                "{}: {} rows besides the sales",
                account.name,
                a.len_without_sales()
            );
            assert!(
                a.sales.len() <= 40_000,
                "{}: {} sales",
                account.name,
                a.sales.len()
            );
            assert!(
                a.sale_lines.len() <= 120_000,
                "{}: {} sale lines",
                account.name,
                a.sale_lines.len()
            );
            // well under a second in release; a debug build is far slower, not this slow
            assert!(
                took.as_secs() < 30,
                "{}: generated in {took:?}",
                account.name
            );
        }
    }

    #[test]
    fn ids_are_unique() {
        for (account, bakery) in bakeries() {
            let rows = inventory_rows(&account, &bakery, today()).expect("rows");
            let sales: HashSet<_> = rows.sales.iter().map(|r| r.id).collect();
            assert_eq!(sales.len(), rows.sales.len(), "{}", account.name);
            let lines: HashSet<_> = rows.sale_lines.iter().map(|r| r.id).collect();
            assert_eq!(lines.len(), rows.sale_lines.len(), "{}", account.name);
            assert!(sales.is_disjoint(&lines));
            let batches: HashSet<_> = rows.production_batches.iter().map(|r| r.id).collect();
            assert_eq!(batches.len(), rows.production_batches.len());
        }
    }

    #[test]
    fn history_is_90_days_and_today_and_a_day_does_not_depend_on_the_seed_day() {
        for (account, bakery) in bakeries() {
            let h = sales_history(&bakery, today());
            assert_eq!(h.len(), 91);
            assert_eq!(h.last().map(|d| d.day), Some(today()));
            assert_eq!(h.first().map(|d| d.day), Some(today() - Duration::days(90)));
            let next = sales_history(&bakery, today() + Duration::days(1));
            assert_eq!(
                h.get(1..),
                next.get(..90),
                "a day's tickets do not depend on the seed day"
            );
            // the rows too: today's tickets seeded today are yesterday's seeded tomorrow,
            // ids included, so re-seeding after midnight changes nothing anybody sees
            let day_of = |rows: &InventoryRows, day: NaiveDate| {
                let sales: Vec<Sale> = rows
                    .sales
                    .iter()
                    .filter(|s| local(s.sold_at).date() == day)
                    .cloned()
                    .collect();
                let ids: HashSet<_> = sales.iter().map(|s| s.id).collect();
                let lines: Vec<SaleLine> = rows
                    .sale_lines
                    .iter()
                    .filter(|l| ids.contains(&l.sale_id))
                    .cloned()
                    .collect();
                (sales, lines)
            };
            let seeded_today = inventory_rows(&account, &bakery, today()).expect("rows");
            let seeded_tomorrow =
                inventory_rows(&account, &bakery, today() + Duration::days(1)).expect("rows");
            let (sales, lines) = day_of(&seeded_today, today());
            assert!(
                sales.len() > 100,
                "{}: {} tickets today",
                account.name,
                sales.len()
            );
            assert_eq!((sales, lines), day_of(&seeded_tomorrow, today()));
        }
    }

    #[test]
    fn san_pablo_rings_about_250_tickets_a_day_of_3_to_6_euros() {
        let b = bakery("san_pablo.toml");
        let h = sales_history(&b, today());
        let per_day = mean(h.iter().map(|d| d.tickets.len() as f64));
        let tickets: Vec<&Ticket> = h.iter().flat_map(|d| d.tickets.iter()).collect();
        let average = mean(tickets.iter().map(|t| ticket_total(&b, t)));
        let lines = mean(tickets.iter().map(|t| t.lines.len() as f64));
        eprintln!(
            "San Pablo: {per_day:.0} tickets a day, {average:.2} € a ticket, {lines:.2} lines"
        );
        assert!(
            (220.0..=300.0).contains(&per_day),
            "{per_day:.0} tickets a day"
        );
        assert!((3.0..=6.0).contains(&average), "{average:.2} € a ticket");
        assert!((1.3..=2.2).contains(&lines), "{lines:.2} lines a ticket");
    }

    #[test]
    fn la_espiga_rings_its_cafe_and_counter_tickets() {
        let b = bakery("la_espiga.toml");
        let h = sales_history(&b, today());
        let per_day = mean(h.iter().map(|d| d.tickets.len() as f64));
        let tickets: Vec<&Ticket> = h.iter().flat_map(|d| d.tickets.iter()).collect();
        let average = mean(tickets.iter().map(|t| ticket_total(&b, t)));
        eprintln!("La Espiga: {per_day:.0} tickets a day, {average:.2} € a ticket");
        assert!(
            (250.0..=420.0).contains(&per_day),
            "{per_day:.0} tickets a day"
        );
        assert!((2.5..=6.0).contains(&average), "{average:.2} € a ticket");
        // the café sells in the morning, the bread in the afternoon run
        let units_by_hour = |category: &str| {
            let mut hours = [0u32; 24];
            for d in &h {
                for t in &d.tickets {
                    let hour = local(t.sold_at).hour() as usize;
                    for l in &t.lines {
                        let is = b
                            .products
                            .get(l.product)
                            .is_some_and(|p| p.category == category);
                        if let (true, Some(slot)) = (is, hours.get_mut(hour)) {
                            *slot += l.units;
                        }
                    }
                }
            }
            hours
        };
        let share = |hours: &[u32; 24], from: usize, to: usize| {
            let part: u32 = hours.get(from..to).map_or(0, |h| h.iter().sum());
            f64::from(part) / f64::from(hours.iter().sum::<u32>())
        };
        let coffee = units_by_hour("cafetería");
        let bread = units_by_hour("pan");
        assert!(
            share(&coffee, 0, 12) > 0.6,
            "coffee before noon: {:.2}",
            share(&coffee, 0, 12)
        );
        assert!(
            share(&bread, 16, 24) > 0.35,
            "bread after 16:00: {:.2}",
            share(&bread, 16, 24)
        );
        assert!(share(&bread, 16, 24) > share(&bread, 7, 11));
        // a morning ticket with a coffee often has a pastry or a bocadillo with it
        let with_coffee: Vec<&&Ticket> = tickets
            .iter()
            .filter(|t| local(t.sold_at).hour() < 11)
            .filter(|t| {
                t.lines.iter().any(|l| {
                    b.products
                        .get(l.product)
                        .is_some_and(|p| p.category == "cafetería")
                })
            })
            .collect();
        let with_food = with_coffee
            .iter()
            .filter(|t| {
                t.lines.iter().any(|l| {
                    b.products
                        .get(l.product)
                        .is_some_and(|p| ["bollería", "bocadillos"].contains(&p.category.as_str()))
                })
            })
            .count();
        let food = with_food as f64 / with_coffee.len() as f64;
        assert!(food > 0.25, "{food:.2} of morning coffee tickets have food");
    }

    #[test]
    fn tickets_have_1_to_5_lines_of_a_few_units_and_add_up() {
        for (account, bakery) in bakeries() {
            let h = sales_history(&bakery, today());
            let tickets: Vec<&Ticket> = h.iter().flat_map(|d| d.tickets.iter()).collect();
            assert!(tickets.iter().all(|t| (1..=5).contains(&t.lines.len())));
            let one_or_two = tickets.iter().filter(|t| t.lines.len() <= 2).count();
            assert!(
                one_or_two * 10 >= tickets.len() * 7,
                "{}: mostly 1-2 lines",
                account.name
            );
            let lines: Vec<&TicketLine> = h.iter().flat_map(DaySales::lines).collect();
            assert!(lines.iter().all(|l| l.units >= 1));
            let few = lines.iter().filter(|l| l.units <= 3).count();
            assert!(
                few * 100 >= lines.len() * 80,
                "{}: mostly 1-3 units",
                account.name
            );
            assert!(lines.iter().any(|l| l.units >= 6), "some bigger buys");
            // every line of a ticket is a different product
            for t in &tickets {
                let products: HashSet<usize> = t.lines.iter().map(|l| l.product).collect();
                assert_eq!(products.len(), t.lines.len());
            }

            let rows = inventory_rows(&account, &bakery, today()).expect("rows");
            let mut sums: HashMap<uuid::Uuid, Decimal> = HashMap::new();
            for l in &rows.sale_lines {
                assert_eq!(l.line_total, l.quantity * l.unit_price);
                *sums.entry(l.sale_id).or_default() += l.line_total;
            }
            for s in &rows.sales {
                assert_eq!(Some(&s.total), sums.get(&s.id), "ticket {}", s.id);
                assert_eq!(s.channel, "pos");
            }
        }
    }

    #[test]
    fn weekends_are_busier_than_midweek() {
        for (account, bakery) in bakeries() {
            let h = sales_history(&bakery, today());
            let tickets_on = |weekdays: &[u32]| {
                mean(
                    h.iter()
                        .filter(|d| weekdays.contains(&d.day.weekday().num_days_from_monday()))
                        .map(|d| d.tickets.len() as f64),
                )
            };
            let (weekend, midweek) = (tickets_on(&[5, 6]), tickets_on(&[1, 2, 3]));
            assert!(
                weekend > midweek * 1.2,
                "{}: {weekend:.0} tickets at weekends, {midweek:.0} midweek",
                account.name
            );
        }
    }

    /// Whether `secs` from local midnight falls in one of the day's opening ranges.
    fn is_open(b: &Bakery, day: NaiveDate, time: NaiveTime) -> bool {
        let secs = time.num_seconds_from_midnight();
        opening(b, day)
            .0
            .iter()
            .any(|&(opens, closes)| (opens..closes).contains(&secs))
    }

    #[test]
    fn tickets_follow_the_clock_in_madrid_with_a_morning_peak() {
        for (account, bakery) in bakeries() {
            let h = sales_history(&bakery, today());
            let mut by_hour = [0u32; 24];
            for d in &h {
                for t in &d.tickets {
                    let at = local(t.sold_at);
                    assert_eq!(
                        at.date(),
                        d.day,
                        "{}: a ticket on its own day",
                        account.name
                    );
                    assert!(
                        is_open(&bakery, d.day, at.time()),
                        "{}: ticket at {at} while closed",
                        account.name
                    );
                    if let Some(n) = by_hour.get_mut(at.hour() as usize) {
                        *n += 1;
                    }
                }
            }
            let busiest = (0..24).max_by_key(|&h| by_hour.get(h).copied().unwrap_or(0));
            assert!(
                matches!(busiest, Some(8..=10)),
                "{}: busiest hour {busiest:?} ({by_hour:?})",
                account.name
            );
            // the evening bread run: smaller than the morning, busier than mid-afternoon
            let at = |hour: usize| by_hour.get(hour).copied().unwrap_or(0);
            let evening = at(18).max(at(19));
            assert!(
                evening > 0 && evening < at(9),
                "{}: {by_hour:?}",
                account.name
            );
            assert!(evening > at(16), "{}: {by_hour:?}", account.name);
            assert_eq!(at(3) + at(4) + at(5) + at(6) + at(22) + at(23), 0);
        }
    }

    #[test]
    fn summer_time_ends_on_25_october_and_the_tickets_follow_madrid_not_utc() {
        let b = bakery("san_pablo.toml");
        let offset = |day: NaiveDate| {
            let d = day_sales(&b, day);
            let offsets: HashSet<i64> = d
                .tickets
                .iter()
                .map(|t| (local(t.sold_at) - t.sold_at.naive_utc()).num_hours())
                .collect();
            // and the first ticket is at opening time in Madrid
            let first = d.tickets.first().map(|t| local(t.sold_at).time());
            assert!(
                first.is_some_and(|t| t >= hm(7, 30) && t < hm(8, 30)),
                "{first:?}"
            );
            offsets
        };
        assert_eq!(offset(date(2026, 10, 24)), HashSet::from([2]));
        assert_eq!(offset(date(2026, 10, 25)), HashSet::from([1]));
        assert_eq!(offset(date(2026, 10, 26)), HashSet::from([1]));
    }

    #[test]
    fn payments_follow_the_shares_of_the_file() {
        for (account, bakery) in bakeries() {
            let h = sales_history(&bakery, today());
            let mut counts: BTreeMap<PaymentMethod, usize> = BTreeMap::new();
            let mut all = 0;
            for t in h.iter().flat_map(|d| d.tickets.iter()) {
                *counts.entry(t.payment_method).or_default() += 1;
                all += 1;
            }
            for (method, share) in &bakery.sales.payments {
                let seen = counts.get(method).copied().unwrap_or(0) as f64 / f64::from(all);
                assert!(
                    (seen - share).abs() < 0.02,
                    "{}: {method} {seen:.3} of the tickets, not {share}",
                    account.name
                );
            }
        }
    }

    #[test]
    fn each_product_sells_its_daily_units_month_by_month() {
        for (account, bakery) in bakeries() {
            let h = sales_history(&bakery, today());
            for month in h.chunks(30).filter(|m| m.len() == 30) {
                for (index, p) in bakery.products.iter().enumerate() {
                    let expected: f64 = month
                        .iter()
                        .map(|d| expected_units(&bakery, p, d.day))
                        .sum();
                    let sold: u32 = month.iter().map(|d| d.units_of(index)).sum();
                    if expected == 0.0 {
                        assert_eq!(sold, 0, "{}: out of season", p.name);
                        continue;
                    }
                    let ratio = f64::from(sold) / expected;
                    assert!(
                        (0.85..=1.15).contains(&ratio),
                        "{}: {} sold {sold} in the 30 days from {:?}, expected {expected:.0}",
                        account.name,
                        p.name,
                        month.first().map(|d| d.day)
                    );
                }
            }
        }
    }

    #[test]
    fn seasonal_sweets_sell_only_in_their_season_and_most_on_their_day() {
        // from 12 October 2026 to 10 January 2027: Todos los Santos and Reyes
        let seed_day = date(2027, 1, 10);
        for (file, sweets) in [
            (
                "san_pablo.toml",
                vec![
                    ("Huesos de santo", date(2026, 11, 1)),
                    ("Buñuelos de viento de nata", date(2026, 11, 1)),
                    (
                        "Roscón de Reyes mediano (relleno de nata)",
                        date(2027, 1, 5),
                    ),
                ],
            ),
            (
                "la_espiga.toml",
                vec![
                    ("Panellets (caja de 250 g)", date(2026, 10, 31)),
                    ("Tortell de Reis (mediano)", date(2027, 1, 5)),
                ],
            ),
        ] {
            let b = bakery(file);
            let h = sales_history(&b, seed_day);
            for (name, peak) in sweets {
                let index = product_index(&b, name);
                let season = b.products.get(index).and_then(|p| p.season.clone());
                let season = season.unwrap_or_else(|| panic!("{name} has a season"));
                let mut in_season = Vec::new();
                for d in &h {
                    let units = d.units_of(index);
                    if season.contains(crate::catalog::MonthDay::of(d.day)) {
                        in_season.push((d.day, units));
                    } else {
                        assert_eq!(units, 0, "{name} sold on {}", d.day);
                    }
                }
                assert!(in_season.len() >= 10, "{name}: {} days", in_season.len());
                let on_peak = in_season
                    .iter()
                    .find(|(d, _)| *d == peak)
                    .map_or(0, |x| x.1);
                let average = mean(in_season.iter().map(|x| f64::from(x.1)));
                assert!(
                    f64::from(on_peak) > average * 1.5,
                    "{name}: {on_peak} on {peak}, {average:.1} a day in season"
                );
            }
        }
        // and the roscón does not sell in the window of 25 November
        let b = bakery("san_pablo.toml");
        let roscon = product_index(&b, "Roscón de Reyes mediano (relleno de nata)");
        assert!(
            sales_history(&b, today())
                .iter()
                .all(|d| d.units_of(roscon) == 0)
        );
    }

    #[test]
    fn seasonal_sweets_carry_their_season_and_la_espiga_orders_them_in_it() {
        let accounts = bakeries();
        let (account, b) = accounts
            .iter()
            .find(|(_, b)| b.standing_order.is_some())
            .expect("a satellite with a nightly order");
        let tortell = "Tortell de Reis (mediano)";
        let tortell_id = Ids::new(account.tenant_id).of("product", tortell);
        let ordered = |rows: &InventoryRows, day: NaiveDate| -> Option<Decimal> {
            let order = rows
                .purchase_orders
                .iter()
                .find(|o| o.expected_at == day && o.reference.starts_with("OBR-"))?;
            rows.purchase_order_lines
                .iter()
                .find(|l| l.order_id == order.id && l.product_id == Some(tortell_id))
                .map(|l| l.quantity)
        };
        // 5 January, Reyes' eve: on the order of that morning, and far more than a usual day
        let reyes = inventory_rows(account, b, date(2027, 1, 5)).expect("rows");
        let on_the_eve = ordered(&reyes, date(2027, 1, 5)).expect("ordered on the 5th");
        let before = ordered(&reyes, date(2026, 12, 28)).expect("ordered in its season");
        assert!(
            on_the_eve > before * Decimal::from(4),
            "{on_the_eve} vs {before}"
        );
        // 1 December: out of season, not ordered, and the product row says when it sells
        let december = inventory_rows(account, b, date(2026, 12, 1)).expect("rows");
        for offset in -12..=1 {
            assert_eq!(
                ordered(&december, date(2026, 12, 1) + Duration::days(offset)),
                None
            );
        }
        let row = december
            .products
            .iter()
            .find(|p| p.id == tortell_id)
            .expect("the tortell");
        assert_eq!(
            (
                row.season_from.map(|d| d.to_string()),
                row.season_to.map(|d| d.to_string())
            ),
            (Some("12-20".to_owned()), Some("01-06".to_owned()))
        );
        // a product sold all year has no season
        assert!(
            december
                .products
                .iter()
                .any(|p| p.season_from.is_none() && p.season_to.is_none())
        );
    }

    #[test]
    fn todays_tickets_span_the_whole_opening_day() {
        for (account, bakery) in bakeries() {
            for day in [today(), date(2026, 11, 29), date(2026, 7, 15)] {
                let d = day_sales(&bakery, day);
                let times: Vec<NaiveTime> =
                    d.tickets.iter().map(|t| local(t.sold_at).time()).collect();
                let ranges = &opening(&bakery, day).0;
                let (Some(&(opens, _)), Some(&(_, closes))) = (ranges.first(), ranges.last())
                else {
                    panic!("{}: open on {day}", account.name);
                };
                let secs = |t: &NaiveTime| i64::from(t.num_seconds_from_midnight());
                let first = times.first().map_or(i64::MAX, secs);
                let last = times.last().map_or(0, secs);
                assert!(
                    first - i64::from(opens) < 1_800,
                    "{}: first at {first}",
                    account.name
                );
                assert!(
                    i64::from(closes) - last < 1_800,
                    "{}: last at {last}",
                    account.name
                );
                // alive at 11:00, fuller at 19:00
                let before = |h: u32| times.iter().filter(|t| **t < hm(h, 0)).count();
                assert!(
                    before(11) >= 40,
                    "{}: {} tickets by 11:00",
                    account.name,
                    before(11)
                );
                assert!(before(19) > before(11) * 3 / 2, "{}", account.name);
            }
        }
    }

    #[test]
    fn production_bakes_what_the_tickets_sell() {
        let (account, b) = bakeries()
            .into_iter()
            .find(|(_, b)| b.production.is_some())
            .expect("a bakery with a workshop");
        let rows = inventory_rows(&account, &b, today()).expect("rows");
        let h = sales_history(&b, today());
        let plan = b.production.clone().expect("plan");
        let ids = Ids::new(account.tenant_id);
        for (index, p) in b.products.iter().enumerate() {
            if p.recipe.is_none() {
                continue;
            }
            let product_id = ids.of("product", &p.name);
            let batches: BTreeMap<NaiveDate, &ProductionBatch> = rows
                .production_batches
                .iter()
                .filter(|r| r.product_id == product_id)
                .map(|r| (local(r.produced_at).date(), r))
                .collect();
            for back in 0..=i64::from(plan.history_days) {
                let day = today() - Duration::days(back);
                let sold = h
                    .iter()
                    .find(|d| d.day == day)
                    .map_or(0, |d| d.units_of(index));
                let batch = batches.get(&day);
                if sold == 0 {
                    assert!(
                        batch.is_none(),
                        "{}: nothing sold on {day}, nothing baked",
                        p.name
                    );
                    continue;
                }
                let batch = batch.unwrap_or_else(|| panic!("{}: a batch on {day}", p.name));
                assert_eq!(batch.status, "completed");
                assert_eq!(local(batch.produced_at).time(), plan.time.0);
                let baked = batch.quantity.to_f64().unwrap_or_default();
                assert!(
                    baked >= f64::from(sold),
                    "{}: baked {baked}, sold {sold}",
                    p.name
                );
                assert!(baked <= (f64::from(sold) * (1.0 + plan.surplus)).ceil());
            }
            let tomorrow = batches.get(&(today() + Duration::days(1)));
            assert_eq!(
                tomorrow.map(|b| b.status.as_str()),
                (expected_units(&b, p, today() + Duration::days(1)) > 0.0).then_some("planned"),
                "{}",
                p.name
            );
            assert_eq!(
                batches.len(),
                batches.range(today() - Duration::days(14)..).count()
            );
        }
    }
}
