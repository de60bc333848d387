//! The bakery data files (`data/demo/*.toml`), embedded at compile time so the seed jobs
//! need no files at run time, parsed into typed values and checked (every name a row refers
//! to exists, shares add up, quantities make sense).
//!
//! Dates in the files are days relative to the seed day (`0` today, `-1` yesterday); times
//! of day are the bakery's local time ([`crate::clock::BAKERY_TIME_ZONE`], Europe/Madrid),
//! turned into UTC by the generator.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use chrono::{NaiveTime, Timelike};
use rust_decimal::Decimal;
use serde::Deserialize;

/// Every data file, by the name `accounts.toml` refers to it with. A new bakery file is
/// added here too.
const FILES: [(&str, &str); 3] = [
    (
        "accounts.toml",
        include_str!("../../../data/demo/accounts.toml"),
    ),
    (
        "san_pablo.toml",
        include_str!("../../../data/demo/san_pablo.toml"),
    ),
    (
        "la_espiga.toml",
        include_str!("../../../data/demo/la_espiga.toml"),
    ),
];

/// A data file that cannot be used; names the file and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("demo data {file}: {problem}")]
pub struct DataError {
    pub file: String,
    pub problem: String,
}

impl DataError {
    pub fn new(file: &str, problem: impl Into<String>) -> Self {
        DataError {
            file: file.to_owned(),
            problem: problem.into(),
        }
    }
}

/// The text of an embedded data file.
pub fn file(name: &str) -> Result<&'static str, DataError> {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .ok_or_else(|| DataError::new(name, "no such embedded file (see catalog::FILES)"))
}

/// Parses an embedded TOML file.
pub fn parse<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, DataError> {
    toml::from_str(file(name)?).map_err(|e| DataError::new(name, e.to_string()))
}

/// A time of day written `"HH:MM"`, in the bakery's local time (Europe/Madrid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TimeOfDay(pub NaiveTime);

impl TryFrom<String> for TimeOfDay {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        NaiveTime::parse_from_str(&s, "%H:%M")
            .map(TimeOfDay)
            .map_err(|_| format!("{s:?} is not a time of day (HH:MM)"))
    }
}

/// Seconds from local midnight (a day's clock, DST aside: the generator turns a day and
/// its seconds into UTC through the time zone).
pub type Secs = u32;

/// One day's opening hours, local time: `"07:30-14:30,17:00-21:00"` (ranges in order, not
/// touching), or `"cerrado"`. Each range is `[opens, closes)` in seconds from midnight.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct OpeningHours(pub Vec<(Secs, Secs)>);

impl TryFrom<String> for OpeningHours {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.trim() == "cerrado" {
            return Ok(OpeningHours(Vec::new()));
        }
        let bad = || {
            format!("{s:?} is not opening hours (\"HH:MM-HH:MM\", comma-separated, or \"cerrado\")")
        };
        let secs = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map(|t| t.num_seconds_from_midnight())
                .map_err(|_| bad())
        };
        let mut ranges: Vec<(Secs, Secs)> = Vec::new();
        for range in s.split(',') {
            let (opens, closes) = range.split_once('-').ok_or_else(bad)?;
            let (opens, closes) = (secs(opens)?, secs(closes)?);
            let after_the_last = ranges.last().is_none_or(|&(_, end)| opens > end);
            if opens >= closes || !after_the_last {
                return Err(format!(
                    "{s:?}: ranges must be in order, each closing after it opens"
                ));
            }
            ranges.push((opens, closes));
        }
        Ok(OpeningHours(ranges))
    }
}

/// Weights of whole counts, written as a table `{ 1 = 50, 2 = 30, 6 = 5 }` (how many lines a
/// ticket has, how many units a line sells): a count is drawn with probability weight / sum.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "BTreeMap<String, f64>")]
pub struct CountWeights(pub Vec<(u32, f64)>);

impl TryFrom<BTreeMap<String, f64>> for CountWeights {
    type Error = String;
    fn try_from(map: BTreeMap<String, f64>) -> Result<Self, String> {
        let mut counts = Vec::new();
        for (key, weight) in map {
            let count: u32 = key
                .parse()
                .ok()
                .filter(|&c| c >= 1)
                .ok_or_else(|| format!("{key:?} is not a count (1, 2, 3…)"))?;
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(format!("count {count}: the weight must be >= 0"));
            }
            counts.push((count, weight));
        }
        counts.sort_by_key(|&(c, _)| c);
        if counts.iter().map(|&(_, w)| w).sum::<f64>() <= 0.0 {
            return Err("some count needs a weight above 0".into());
        }
        Ok(CountWeights(counts))
    }
}

impl CountWeights {
    /// The count that `r` (uniform in `[0, 1)`) falls on.
    pub fn pick(&self, r: f64) -> u32 {
        let total: f64 = self.0.iter().map(|&(_, w)| w).sum();
        let mut cumulative = 0.0;
        for &(count, weight) in &self.0 {
            cumulative += weight / total;
            if r < cumulative {
                return count;
            }
        }
        self.0.last().map_or(1, |&(c, _)| c)
    }

    /// The average count.
    pub fn mean(&self) -> f64 {
        let total: f64 = self.0.iter().map(|&(_, w)| w).sum();
        self.0.iter().map(|&(c, w)| f64::from(c) * w).sum::<f64>() / total
    }

    pub fn max(&self) -> u32 {
        self.0.last().map_or(1, |&(c, _)| c)
    }
}

/// How one kind of product sells through the day: a weight per local hour, written
/// `{ 07 = 4, 08 = 9, … }`; an hour not listed sells none of it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "BTreeMap<String, f64>")]
pub struct HourWeights(pub [f64; 24]);

impl TryFrom<BTreeMap<String, f64>> for HourWeights {
    type Error = String;
    fn try_from(map: BTreeMap<String, f64>) -> Result<Self, String> {
        let mut hours = [0.0; 24];
        for (key, weight) in map {
            let slot = key
                .parse::<usize>()
                .ok()
                .and_then(|h| hours.get_mut(h))
                .ok_or_else(|| format!("{key:?} is not an hour (00 to 23)"))?;
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(format!("hour {key}: the weight must be >= 0"));
            }
            *slot = weight;
        }
        Ok(HourWeights(hours))
    }
}

pub use bakery_config::clock::MonthDay;

/// When a seasonal product is on sale: from `from` to `to` (both included; a season may
/// run over New Year), `peaks` multiplying its units on the days that matter most.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Season {
    pub from: MonthDay,
    pub to: MonthDay,
    #[serde(default)]
    pub peaks: BTreeMap<MonthDay, f64>,
}

impl Season {
    /// The days it is on sale (what the product row carries).
    pub fn days(&self) -> bakery_config::clock::Season {
        bakery_config::clock::Season {
            from: self.from,
            to: self.to,
        }
    }

    pub fn contains(&self, day: MonthDay) -> bool {
        self.days().contains(day)
    }

    /// The factor on the product's daily units on `day`: 0 out of season.
    pub fn factor(&self, day: chrono::NaiveDate) -> f64 {
        let day = MonthDay::of(day);
        if !self.contains(day) {
            return 0.0;
        }
        self.peaks.get(&day).copied().unwrap_or(1.0)
    }
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// The value stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(SupplierKind {
    CentralBaker = "central_baker",
    Wholesaler = "wholesaler",
    LocalProducer = "local_producer",
});

vocabulary!(Unit {
    Kg = "kg",
    G = "g",
    L = "l",
    Ml = "ml",
    Unidad = "unidad",
});

vocabulary!(ProductKind {
    Finished = "finished",
    ParBaked = "par_baked",
});

vocabulary!(PaymentMethod {
    Cash = "cash",
    Card = "card",
    Bizum = "bizum",
    Other = "other",
});

vocabulary!(
    /// An order's state in the data file. `Late` is stored as `in_transit` with an expected
    /// day already past: that is what "late" means to the dashboard.
    OrderState {
        Draft = "draft",
        Pending = "pending",
        InTransit = "in_transit",
        Delivered = "delivered",
        Cancelled = "cancelled",
        Late = "late",
    }
);

/// One bakery's data file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bakery {
    pub sales: SalesPlan,
    pub production: Option<ProductionPlan>,
    pub forecast: ForecastPlan,
    pub standing_order: Option<StandingOrder>,
    pub suppliers: Vec<SupplierData>,
    pub ingredients: Vec<IngredientData>,
    pub products: Vec<ProductData>,
    #[serde(default)]
    pub orders: Vec<OrderData>,
}

/// The till: how the generator makes each day's tickets (see `generate::day_sales`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesPlan {
    /// Days of history before today (today's whole day is generated too).
    pub days: u32,
    pub seed: u64,
    /// Each product's units of a day vary by up to ± this fraction.
    pub noise: f64,
    /// The whole day's units vary by up to ± this fraction (a rainy Tuesday, a busy one).
    pub day_noise: f64,
    /// Monday first.
    pub weekday_factors: [f64; 7],
    /// Monday first, local time.
    pub opening: [OpeningHours; 7],
    /// How many lines a ticket has.
    pub lines: CountWeights,
    /// How many units a line sells, unless the product has its own `quantities`.
    pub quantities: CountWeights,
    /// Each payment method's share of the tickets.
    pub payments: BTreeMap<PaymentMethod, f64>,
    /// By product category (or `default`): when in the day it sells.
    pub hours: BTreeMap<String, HourWeights>,
}

impl SalesPlan {
    /// The hourly rhythm of a product category.
    pub fn hours_of(&self, category: &str) -> Option<&HourWeights> {
        self.hours
            .get(category)
            .or_else(|| self.hours.get("default"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductionPlan {
    pub history_days: u32,
    pub surplus: f64,
    pub time: TimeOfDay,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastPlan {
    pub algorithm: String,
    pub trained_time: TimeOfDay,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandingOrder {
    pub supplier: String,
    pub history_days: u32,
    pub reference_prefix: String,
    pub carrier: String,
    pub ordered_time: TimeOfDay,
    pub delivery_time: TimeOfDay,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierData {
    pub name: String,
    pub kind: SupplierKind,
    pub contact_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub city: Option<String>,
    pub lead_time_days: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngredientData {
    pub name: String,
    pub category: String,
    pub unit: Unit,
    pub unit_cost: Decimal,
    pub reorder_point: Decimal,
    pub reorder_quantity: Decimal,
    #[serde(default)]
    pub allergens: Vec<String>,
    /// `None`: made in the shop (e.g. the sourdough starter).
    pub supplier: Option<String>,
    pub shelf_life_days: u32,
    #[serde(default)]
    pub lots: Vec<LotData>,
}

/// A stock lot: received `received` days from today (negative), `left` still in stock.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotData {
    pub received: i64,
    pub left: Decimal,
    /// What was received; defaults to the reorder quantity (or `left`, if larger).
    pub initial: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductData {
    pub name: String,
    pub kind: ProductKind,
    pub category: String,
    #[serde(default = "default_product_unit")]
    pub unit: Unit,
    pub sale_price: Decimal,
    pub purchase_cost: Option<Decimal>,
    pub supplier: Option<String>,
    pub shelf_life_days: i32,
    /// Units sold on an average day (before the weekday factor; for a seasonal product, a
    /// day of its season before its peaks).
    pub daily_units: u32,
    /// How many units one ticket line of it sells (default: `sales.quantities`).
    pub quantities: Option<CountWeights>,
    /// Only on sale in this season (default: all year).
    pub season: Option<Season>,
    /// Units in the standing order to the central baker on an average day.
    pub standing_order: Option<u32>,
    #[serde(default)]
    pub lots: Vec<LotData>,
    pub recipe: Option<RecipeData>,
}

fn default_product_unit() -> Unit {
    Unit::Unidad
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeData {
    pub yield_quantity: Decimal,
    pub prep_minutes: i32,
    pub instructions: String,
    /// Ingredient name → quantity (in the ingredient's unit) for one batch.
    pub lines: BTreeMap<String, Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderData {
    pub reference: String,
    pub supplier: String,
    pub status: OrderState,
    /// Days from today.
    pub ordered: i64,
    pub expected: i64,
    pub carrier: String,
    pub tracking_code: Option<String>,
    #[serde(default)]
    pub notes: String,
    /// Ingredient or product name → quantity.
    pub lines: BTreeMap<String, Decimal>,
}

/// The file `accounts.toml` names for a bakery, parsed and checked.
pub fn bakery(file_name: &str) -> Result<Bakery, DataError> {
    let bakery: Bakery = parse(file_name)?;
    bakery
        .check()
        .map_err(|problem| DataError::new(file_name, problem))?;
    Ok(bakery)
}

fn unique<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let mut seen = HashSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(format!("{what} {n:?} appears twice"));
        }
    }
    Ok(())
}

impl Bakery {
    pub fn supplier(&self, name: &str) -> Option<&SupplierData> {
        self.suppliers.iter().find(|s| s.name == name)
    }

    pub fn ingredient(&self, name: &str) -> Option<&IngredientData> {
        self.ingredients.iter().find(|i| i.name == name)
    }

    pub fn product(&self, name: &str) -> Option<&ProductData> {
        self.products.iter().find(|p| p.name == name)
    }

    /// Every rule a file must follow beyond its shape. The first broken rule is the one
    /// reported, so the checks run in the file's own order: names, sales plan, ingredients,
    /// products, orders, standing order.
    pub fn check(&self) -> Result<(), String> {
        self.check_names_are_unique()?;
        self.sales.check()?;
        for i in &self.ingredients {
            if let Some(s) = &i.supplier {
                self.supplier_known(s, &i.name)?;
            }
            check_lots(&i.name, &i.lots)?;
        }
        for p in &self.products {
            self.check_product(p)?;
            self.check_product_sales(p)?;
        }
        for o in &self.orders {
            self.check_order(o)?;
        }
        if let Some(standing) = &self.standing_order {
            self.supplier_known(&standing.supplier, "standing_order")?;
            if !self.products.iter().any(|p| p.standing_order.is_some()) {
                return Err("standing_order: no product has a standing_order quantity".into());
            }
        }
        Ok(())
    }

    /// Rows refer to one another by name, so a name must say which row it means.
    fn check_names_are_unique(&self) -> Result<(), String> {
        unique("supplier", self.suppliers.iter().map(|s| s.name.as_str()))?;
        unique(
            "ingredient",
            self.ingredients.iter().map(|i| i.name.as_str()),
        )?;
        unique("product", self.products.iter().map(|p| p.name.as_str()))?;
        unique("order", self.orders.iter().map(|o| o.reference.as_str()))
    }

    fn supplier_known(&self, name: &str, whose: &str) -> Result<(), String> {
        self.supplier(name)
            .map(|_| ())
            .ok_or_else(|| format!("{whose}: unknown supplier {name:?}"))
    }

    fn check_product(&self, p: &ProductData) -> Result<(), String> {
        if let Some(s) = &p.supplier {
            self.supplier_known(s, &p.name)?;
        }
        check_lots(&p.name, &p.lots)?;
        match (&p.recipe, p.purchase_cost, p.kind) {
            (Some(_), _, ProductKind::ParBaked) => {
                return Err(format!("{}: a par-baked product has no recipe", p.name));
            }
            (None, None, _) => {
                return Err(format!("{}: needs a recipe or a purchase_cost", p.name));
            }
            (_, _, ProductKind::ParBaked) if p.supplier.is_none() => {
                return Err(format!("{}: a par-baked product needs a supplier", p.name));
            }
            _ => {}
        }
        match &p.recipe {
            Some(recipe) => self.check_recipe(&p.name, recipe),
            None => Ok(()),
        }
    }

    /// A product must be sellable: a rhythm for its category that has open hours every day
    /// it can sell, a season whose peaks fall inside it.
    fn check_product_sales(&self, p: &ProductData) -> Result<(), String> {
        let plan = &self.sales;
        let hours = plan.hours_of(&p.category).ok_or_else(|| {
            format!(
                "{}: no sales.hours for category {:?} (nor a default)",
                p.name, p.category
            )
        })?;
        for (weekday, (opening, factor)) in
            plan.opening.iter().zip(plan.weekday_factors).enumerate()
        {
            let weight: f64 = opening
                .0
                .iter()
                .flat_map(|&(opens, closes)| {
                    (opens / 3600..closes.div_ceil(3600)).map(|h| h as usize)
                })
                .filter_map(|h| hours.0.get(h))
                .sum();
            if factor > 0.0 && p.daily_units > 0 && weight <= 0.0 {
                return Err(format!(
                    "{}: category {:?} sells at no open hour on weekday {} (Monday = 0)",
                    p.name, p.category, weekday
                ));
            }
        }
        if let Some(season) = &p.season {
            if let Some(day) = season.peaks.keys().find(|d| !season.contains(**d)) {
                return Err(format!("{}: peak {day} is outside its season", p.name));
            }
            if season.peaks.values().any(|f| !(f.is_finite() && *f >= 0.0)) {
                return Err(format!("{}: peak factors must be >= 0", p.name));
            }
        }
        Ok(())
    }

    fn check_recipe(&self, product: &str, recipe: &RecipeData) -> Result<(), String> {
        if recipe.yield_quantity <= Decimal::ZERO || recipe.lines.is_empty() {
            return Err(format!(
                "{product}: a recipe yields something from something"
            ));
        }
        for (ingredient, quantity) in &recipe.lines {
            if self.ingredient(ingredient).is_none() {
                return Err(format!("{product}: unknown ingredient {ingredient:?}"));
            }
            if *quantity <= Decimal::ZERO {
                return Err(format!("{product}: {ingredient} quantity must be > 0"));
            }
        }
        Ok(())
    }

    fn check_order(&self, o: &OrderData) -> Result<(), String> {
        self.supplier_known(&o.supplier, &o.reference)?;
        if o.lines.is_empty() {
            return Err(format!("order {}: no lines", o.reference));
        }
        for (item, quantity) in &o.lines {
            if self.ingredient(item).is_none() && self.product(item).is_none() {
                return Err(format!("order {}: unknown item {item:?}", o.reference));
            }
            if *quantity <= Decimal::ZERO {
                return Err(format!(
                    "order {}: {item} quantity must be > 0",
                    o.reference
                ));
            }
        }
        if o.expected < o.ordered {
            return Err(format!("order {}: expected before ordered", o.reference));
        }
        if o.status == OrderState::Late && o.expected >= 0 {
            return Err(format!(
                "order {}: late means expected before today",
                o.reference
            ));
        }
        Ok(())
    }
}

impl SalesPlan {
    fn check(&self) -> Result<(), String> {
        if self.days == 0 || self.days > 366 {
            return Err("sales.days must be between 1 and 366".into());
        }
        if !(0.0..1.0).contains(&self.noise) {
            return Err("sales.noise must be in [0, 1)".into());
        }
        if self
            .weekday_factors
            .iter()
            .any(|f| !(0.0..=5.0).contains(f))
        {
            return Err("sales.weekday_factors must be between 0 and 5".into());
        }
        if !(0.0..1.0).contains(&self.day_noise) {
            return Err("sales.day_noise must be in [0, 1)".into());
        }
        // a day the shop is closed sells nothing, so its factor must say so
        if self
            .opening
            .iter()
            .zip(self.weekday_factors)
            .any(|(o, f)| o.0.is_empty() && f > 0.0)
        {
            return Err("sales.opening: a closed day needs a weekday factor of 0".into());
        }
        if self.lines.0.first().is_none_or(|&(c, _)| c < 1) || self.lines.max() > 5 {
            return Err("sales.lines: a ticket has 1 to 5 lines".into());
        }
        let shares: f64 = self.payments.values().sum();
        if self.payments.is_empty()
            || self.payments.values().any(|s| *s <= 0.0)
            || (shares - 1.0).abs() > 1e-6
        {
            return Err("sales.payments: positive shares adding up to 1".into());
        }
        Ok(())
    }
}

fn check_lots(item: &str, lots: &[LotData]) -> Result<(), String> {
    for lot in lots {
        if lot.received > 0 || lot.left < Decimal::ZERO {
            return Err(format!(
                "{item}: a lot is received today or before, left >= 0"
            ));
        }
        if lot.initial.is_some_and(|initial| initial < lot.left) {
            return Err(format!("{item}: a lot cannot hold more than it received"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_bakery_parses_and_checks() {
        for name in ["san_pablo.toml", "la_espiga.toml"] {
            if let Err(e) = bakery(name) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn broken_references_are_named() {
        let mut b = bakery("san_pablo.toml").expect("parses");
        if let Some(recipe) = b.products[0].recipe.as_mut() {
            recipe.lines.insert("Harina de Marte".into(), Decimal::ONE);
        }
        let err = b.check().expect_err("unknown ingredient");
        assert!(err.contains("Harina de Marte"), "{err}");
    }

    #[test]
    fn opening_hours_are_ranges_in_order() {
        let parse = |s: &str| OpeningHours::try_from(s.to_owned());
        assert_eq!(
            parse("07:30-14:30,17:00-21:00"),
            Ok(OpeningHours(vec![(27_000, 52_200), (61_200, 75_600)]))
        );
        assert_eq!(parse("cerrado"), Ok(OpeningHours(Vec::new())));
        for bad in [
            "08:00-07:00",
            "08:00-14:00,13:00-20:00",
            "8-14",
            "",
            "08:00",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_sales_plan_that_cannot_be_a_till_is_refused() {
        let mut b = bakery("san_pablo.toml").expect("parses");
        b.sales.payments.insert(PaymentMethod::Other, 0.2);
        assert!(b.check().expect_err("shares").contains("payments"));

        let mut b = bakery("san_pablo.toml").expect("parses");
        b.sales.lines = CountWeights(vec![(1, 1.0), (6, 1.0)]);
        assert!(b.check().expect_err("six lines").contains("1 to 5"));

        let mut b = bakery("san_pablo.toml").expect("parses");
        b.sales.opening[6] = OpeningHours(Vec::new());
        assert!(b.check().expect_err("closed sunday").contains("closed day"));

        // bread only sold at night: no open hour for it
        let mut b = bakery("san_pablo.toml").expect("parses");
        let mut night = [0.0; 24];
        night[3] = 1.0;
        b.sales.hours.insert("pan".into(), HourWeights(night));
        assert!(
            b.check()
                .expect_err("no open hour")
                .contains("no open hour")
        );
    }

    #[test]
    fn seasons_may_run_over_new_year() {
        let md = |s: &str| s.parse::<MonthDay>().expect("a day");
        let reyes = Season {
            from: md("12-20"),
            to: md("01-06"),
            peaks: BTreeMap::from([(md("01-05"), 9.0)]),
        };
        assert!(reyes.contains(md("12-31")) && reyes.contains(md("01-06")));
        assert!(!reyes.contains(md("01-07")) && !reyes.contains(md("12-19")));
        let day = |m, d| chrono::NaiveDate::from_ymd_opt(2027, m, d).unwrap_or_default();
        assert!((reyes.factor(day(1, 5)) - 9.0).abs() < f64::EPSILON);
        assert!((reyes.factor(day(1, 2)) - 1.0).abs() < f64::EPSILON);
        assert!(reyes.factor(day(3, 1)).abs() < f64::EPSILON);
        assert!("02-30".parse::<MonthDay>().is_err());
    }
}
