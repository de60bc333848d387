//! From a bakery's data file and the seed day to every inventory row of its template.
//!
//! Everything is a pure function of the file and `today`: ids are UUID v5 of stable keys,
//! and the sales history comes from a PRNG seeded with the file's seed and the calendar
//! day, so the same day always gets the same numbers (and re-seeding a day later only
//! slides the 90-day window).
//!
//! The sales history is deliberately compact (a template is cloned for every prospect):
//! each day has one ticket per channel and payment method — the till's end-of-day report —
//! and each product's units of the day sit on one line of one of those tickets.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::json;

use crate::accounts::DemoAccount;
use crate::catalog::{
    Bakery, DataError, LotData, OrderData, OrderState, ProductData, RecipeData, StandingOrder,
    SupplierData,
};
use crate::ids::Ids;
use crate::rng::SplitMix64;
use crate::rows::*;

/// Money: 2 decimals.
fn money(d: Decimal) -> Decimal {
    d.round_dp(2)
}

/// Quantities: 3 decimals (the columns' scale, so rows read back equal).
fn qty(d: Decimal) -> Decimal {
    d.round_dp(3)
}

/// Whole units from a count the generator computed in floating point: every caller rounds
/// it (or takes its ceiling) and keeps it at least 1.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a whole, positive count of a catalog's units; past u32::MAX `as` saturates"
)]
fn whole_units(units: f64) -> u32 {
    units as u32
}

fn at(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    day.and_time(time).and_utc()
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

/// One product's sales on one day: `units`, all on the ticket of batch `batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductDay {
    pub product: usize,
    pub units: u32,
    pub batch: usize,
}

/// One day of the sales history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySales {
    pub day: NaiveDate,
    pub lines: Vec<ProductDay>,
}

impl DaySales {
    pub fn units_of(&self, product: usize) -> u32 {
        self.lines
            .iter()
            .filter(|l| l.product == product)
            .map(|l| l.units)
            .sum()
    }
}

/// The sales of the `sales.days` days ending yesterday, oldest first.
pub fn sales_history(bakery: &Bakery, today: NaiveDate) -> Vec<DaySales> {
    let plan = &bakery.sales;
    (1..=i64::from(plan.days))
        .rev()
        .map(|back| {
            let day = today - Duration::days(back);
            let mut rng =
                SplitMix64::for_stream(plan.seed, day.num_days_from_ce().unsigned_abs().into());
            let factor = weekday_factor(bakery, day);
            let lines = bakery
                .products
                .iter()
                .enumerate()
                .filter_map(|(product, p)| {
                    let noise = 1.0 + plan.noise * rng.next_signed();
                    let pick = rng.next_f64();
                    let units = (f64::from(p.daily_units) * factor * noise).round();
                    let batch = pick_batch(bakery, pick);
                    (units >= 1.0).then_some(ProductDay {
                        product,
                        units: whole_units(units),
                        batch,
                    })
                })
                .collect();
            DaySales { day, lines }
        })
        .collect()
}

fn pick_batch(bakery: &Bakery, r: f64) -> usize {
    let mut cumulative = 0.0;
    for (i, b) in bakery.sales.batches.iter().enumerate() {
        cumulative += b.share;
        if r < cumulative {
            return i;
        }
    }
    bakery.sales.batches.len().saturating_sub(1)
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

    fn sales(&self, history: &[DaySales], rows: &mut InventoryRows) {
        let t = self.tenant();
        for day in history {
            for (b, batch) in self.bakery.sales.batches.iter().enumerate() {
                let key = format!("{}:{}:{}", day.day, batch.channel, batch.payment_method);
                let sale_id = self.ids.of("sale", &key);
                let mut total = Decimal::ZERO;
                for line in day.lines.iter().filter(|l| l.batch == b) {
                    let Some(p) = self.bakery.products.get(line.product) else {
                        continue;
                    };
                    let quantity = Decimal::from(line.units);
                    let unit_price = money(p.sale_price);
                    let line_total = money(quantity * unit_price);
                    total += line_total;
                    rows.sale_lines.push(SaleLine {
                        tenant_id: t,
                        id: self.ids.of("sale_line", &format!("{key}/{}", p.name)),
                        sale_id,
                        product_id: self.product_id(&p.name),
                        quantity,
                        unit_price,
                        line_total,
                    });
                }
                if total > Decimal::ZERO {
                    rows.sales.push(Sale {
                        tenant_id: t,
                        id: sale_id,
                        sold_at: at(day.day, batch.time.0),
                        channel: batch.channel.as_str().to_owned(),
                        payment_method: batch.payment_method.as_str().to_owned(),
                        total,
                    });
                }
            }
        }
    }

    /// Completed batches for the last days (what sold, plus the surplus) and today's plan.
    fn production(&self, history: &[DaySales], rows: &mut InventoryRows) {
        let Some(plan) = &self.bakery.production else {
            return;
        };
        let t = self.tenant();
        let with_surplus = |units: f64| (units * (1.0 + plan.surplus)).ceil().max(1.0);
        let recent = history
            .iter()
            .rev()
            .take(plan.history_days as usize)
            .map(|d| (d, "completed"));
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
            for (day, status) in recent.clone() {
                let sold = day.units_of(index);
                if sold > 0 {
                    push(day.day, f64::from(sold), status);
                }
            }
            let expected = f64::from(p.daily_units) * weekday_factor(self.bakery, self.today);
            push(self.today, expected, "planned");
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
                let Some(usual) = p.standing_order else {
                    continue;
                };
                let units = (f64::from(usual) * factor).round().max(1.0);
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

/// A day's takings, for reports and tests.
pub fn day_total(bakery: &Bakery, day: &DaySales) -> f64 {
    day.lines
        .iter()
        .filter_map(|l| {
            let p = bakery.products.get(l.product)?;
            (p.sale_price * Decimal::from(l.units)).to_f64()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::load;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default()
    }

    #[test]
    fn generation_is_deterministic_and_small() {
        for account in load().expect("accounts") {
            let bakery = account.bakery().expect("bakery");
            let a = inventory_rows(&account, &bakery, today()).expect("rows");
            let b = inventory_rows(&account, &bakery, today()).expect("rows");
            assert_eq!(a, b);
            eprintln!(
                "{}: {} rows ({} sales, {} sale lines, {} lots, {} movements, {} batches, \
                 {} orders, {} order lines)",
                account.name,
                a.len(),
                a.sales.len(),
                a.sale_lines.len(),
                a.stock_lots.len(),
                a.stock_movements.len(),
                a.production_batches.len(),
                a.purchase_orders.len(),
                a.purchase_order_lines.len()
            );
            assert!(a.len() <= 5_000, "{}: {} rows", account.name, a.len());
        }
    }

    #[test]
    fn history_is_90_days_ending_yesterday_and_overlaps_the_next_day() {
        let account = load().expect("accounts").remove(0);
        let bakery = account.bakery().expect("bakery");
        let h = sales_history(&bakery, today());
        assert_eq!(h.len(), 90);
        assert_eq!(h.last().map(|d| d.day), Some(today() - Duration::days(1)));
        assert_eq!(h.first().map(|d| d.day), Some(today() - Duration::days(90)));
        let next = sales_history(&bakery, today() + Duration::days(1));
        assert_eq!(
            h[1..],
            next[..89],
            "a day's numbers do not depend on the seed day"
        );
    }
}
