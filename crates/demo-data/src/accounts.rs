//! The published demo accounts (`data/demo/accounts.toml`).
//!
//! Serialized, an account is one element of `GET /api/demo/accounts` →
//! `{"accounts": [...]}`: account type, template tenant id, name, email, password,
//! business model, city, location, description and features (in Spanish). The same entry
//! names the template tenant's slug, its owner and the bakery's data file, which stay
//! internal.

use std::sync::LazyLock;

use bakery_config::clock::BakeryTimeZone;
use bakery_config::demo::AccountType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::{self, Bakery, DataError};

const ACCOUNTS_FILE: &str = "accounts.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoAccount {
    pub account_type: AccountType,
    /// The template tenant's fixed id.
    pub tenant_id: Uuid,
    pub name: String,
    pub email: String,
    pub password: String,
    pub business_model: String,
    pub city: String,
    /// The template tenant's time zone (and its virtual tenants'). Internal, as the data
    /// files' times of day are Europe/Madrid local time (`crate::clock`).
    #[serde(default, skip_serializing)]
    pub time_zone: BakeryTimeZone,
    pub location: String,
    pub description: String,
    pub features: Vec<String>,
    /// The template tenant's slug.
    #[serde(default, skip_serializing)]
    pub slug: String,
    /// The demo user's full name.
    #[serde(default, skip_serializing)]
    pub owner_name: String,
    /// The bakery's data file in `data/demo/`.
    #[serde(default, skip_serializing)]
    pub data: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsFile {
    accounts: Vec<DemoAccount>,
}

impl DemoAccount {
    /// This account's bakery data, parsed and checked.
    pub fn bakery(&self) -> Result<Bakery, DataError> {
        catalog::bakery(&self.data)
    }
}

/// Parses and checks `accounts.toml`: one account per type, distinct tenants and emails,
/// every text trimmed (TOML's line-ending backslash leaves none of the wrapping).
pub fn load() -> Result<Vec<DemoAccount>, DataError> {
    let file: AccountsFile = catalog::parse(ACCOUNTS_FILE)?;
    let mut accounts = file.accounts;
    for a in &mut accounts {
        a.description = a.description.trim().to_owned();
    }
    let problem = |p: String| Err(DataError::new(ACCOUNTS_FILE, p));
    for t in AccountType::ALL {
        if accounts.iter().filter(|a| a.account_type == t).count() != 1 {
            return problem(format!("exactly one account of type {t} is needed"));
        }
    }
    for (i, a) in accounts.iter().enumerate() {
        if accounts
            .iter()
            .take(i)
            .any(|b| b.tenant_id == a.tenant_id || b.email.eq_ignore_ascii_case(&a.email))
        {
            return problem(format!("{}: tenant id and email must be unique", a.name));
        }
        if a.business_model != a.account_type.as_str() {
            return problem(format!(
                "{}: business_model must be its account type",
                a.name
            ));
        }
        if a.time_zone != crate::clock::BAKERY_TIME_ZONE {
            return problem(format!(
                "{}: time_zone must be {}, the zone of the bakery files' times of day",
                a.name,
                crate::clock::BAKERY_TIME_ZONE
            ));
        }
        if a.slug.is_empty() || a.owner_name.is_empty() || a.data.is_empty() {
            return problem(format!(
                "{}: slug, owner_name and data are required",
                a.name
            ));
        }
    }
    Ok(accounts)
}

static ACCOUNTS: LazyLock<Result<Vec<DemoAccount>, DataError>> = LazyLock::new(load);

/// Both demo accounts, in the order of the data file.
///
/// The file is embedded and checked by this crate's tests, so it cannot fail at run time
/// unless a broken file was committed; then it logs the problem and returns no accounts.
pub fn accounts() -> Vec<DemoAccount> {
    match &*ACCOUNTS {
        Ok(accounts) => accounts.clone(),
        Err(e) => {
            tracing::error!(error = %e, "the embedded demo accounts are invalid");
            Vec::new()
        }
    }
}

/// The account of one type.
pub fn account(account_type: AccountType) -> Option<DemoAccount> {
    accounts()
        .into_iter()
        .find(|a| a.account_type == account_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_accounts_match_the_contract() {
        let accounts = load().expect("accounts.toml is valid");
        // what docs/demo-data.md ("Accounts, ids and credentials") publishes
        for (t, tenant_id, name, city, email, password) in [
            (
                AccountType::IndividualBakery,
                "00000000-0000-4000-a000-000000000001",
                "Panadería San Pablo - Demo",
                "Madrid",
                "demo.individual@panaderiasanpablo.com",
                "DemoSanPablo2024!",
            ),
            (
                AccountType::CentralBakerSatellite,
                "00000000-0000-4000-a000-000000000002",
                "Panadería La Espiga - Demo",
                "Barcelona",
                "demo.central@panaderialaespiga.com",
                "DemoLaEspiga2024!",
            ),
        ] {
            let a = accounts
                .iter()
                .find(|a| a.account_type == t)
                .expect("every type");
            assert_eq!(a.tenant_id.to_string(), tenant_id);
            assert_eq!((a.name.as_str(), a.city.as_str()), (name, city));
            assert_eq!((a.email.as_str(), a.password.as_str()), (email, password));
        }
        for a in &accounts {
            assert!(a.bakery().is_ok(), "{}", a.data);
            assert!(!a.description.ends_with('\n') && a.description.len() > 80);
            assert!(a.features.len() >= 4);
        }
    }

    /// The services read the template ids with their own small parser
    /// (`bakery_config::tenants`, which inventory-service can depend on): the same ids.
    #[test]
    fn the_services_know_the_same_templates() {
        let ids: Vec<Uuid> = load()
            .expect("accounts.toml is valid")
            .iter()
            .map(|a| a.tenant_id)
            .collect();
        assert_eq!(
            bakery_config::tenants::template_tenant_ids().map(<[Uuid]>::to_vec),
            Ok(ids)
        );
    }

    #[test]
    fn json_has_the_public_fields_only() {
        let json = serde_json::to_value(accounts()).expect("serializes");
        let first = json[0].as_object().expect("object");
        let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "account_type",
                "business_model",
                "city",
                "description",
                "email",
                "features",
                "location",
                "name",
                "password",
                "tenant_id"
            ]
        );
        assert_eq!(json[0]["account_type"], "individual_bakery");
        // what a client reads back
        let back: Vec<DemoAccount> = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back[1].account_type, AccountType::CentralBakerSatellite);
    }
}
