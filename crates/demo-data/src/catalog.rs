//! The bakery data files (`data/demo/*.toml`), embedded at compile time so the seed jobs
//! need no files at run time, parsed into typed values and checked (every name a row refers
//! to exists, shares add up, quantities make sense).
//!
//! Dates in the files are days relative to the seed day (`0` today, `-1` yesterday).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use chrono::NaiveTime;
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

/// A time of day written `"HH:MM"` (UTC).
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

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
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

vocabulary!(Channel {
    Pos = "pos",
    Online = "online",
    Wholesale = "wholesale",
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesPlan {
    /// Days of history, ending yesterday.
    pub days: u32,
    pub seed: u64,
    /// Each product's daily units vary by up to ± this fraction.
    pub noise: f64,
    /// Monday first.
    pub weekday_factors: [f64; 7],
    pub batches: Vec<SalesBatch>,
}

/// One daily ticket: the day's sales of one channel and payment method.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesBatch {
    pub channel: Channel,
    pub payment_method: PaymentMethod,
    pub share: f64,
    pub time: TimeOfDay,
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
    /// Units sold on an average day (before the weekday factor).
    pub daily_units: u32,
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
        let shares: f64 = self.batches.iter().map(|b| b.share).sum();
        if self.batches.is_empty()
            || self.batches.iter().any(|b| b.share <= 0.0)
            || (shares - 1.0).abs() > 1e-6
        {
            return Err("sales.batches: positive shares adding up to 1".into());
        }
        // one daily ticket per channel and payment method
        unique(
            "sales batch",
            self.batches
                .iter()
                .map(|b| format!("{}:{}", b.channel, b.payment_method))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        )
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
}
