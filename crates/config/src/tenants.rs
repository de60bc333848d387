//! What the services know about tenants besides their own rows: the answer of
//! tenant-service's `GET /internal/tenants` (served by tenant-service, read by
//! inventory-service's procurement run), and the demo template tenants.
//!
//! The template tenants' ids are read from `data/demo/accounts.toml` (embedded), the same
//! file the seed jobs create them from and `GET /api/demo/accounts` publishes: the ids
//! are written down once. They are parsed here, not in `bakery-demo-data`, because
//! inventory-service needs them and `bakery-demo-data` is built on inventory's model
//! library; and the gateway needs only the ids, not the demo data's database code.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::BakeryTimeZone;
use crate::demo::AccountType;

/// One entry of `GET /internal/tenants` (a reader ignores unknown fields, and defaults the
/// descriptive ones).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TenantSummary {
    pub id: Uuid,
    pub name: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub business_model: String,
    #[serde(default)]
    pub city: String,
    pub is_demo: bool,
    pub is_demo_template: bool,
    /// Where the bakery's days begin and end (its `timezone`); the default when absent.
    #[serde(default)]
    pub time_zone: BakeryTimeZone,
}

impl TenantSummary {
    /// A paying customer: neither a virtual demo tenant nor a template (by its flags, and
    /// by the template ids, should a template ever be flagged wrongly).
    pub fn is_customer(&self) -> bool {
        !self.is_demo && !self.is_demo_template && !is_template_tenant(self.id)
    }
}

/// `GET /internal/tenants?demo=&limit=&offset=`:
/// `{"tenants": [...], "limit", "offset", "next_offset": n | null}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenantList {
    pub tenants: Vec<TenantSummary>,
    #[serde(default)]
    pub limit: i64,
    #[serde(default)]
    pub offset: i64,
    /// The `offset` of the next page; absent or `null` on the last one.
    #[serde(default)]
    pub next_offset: Option<i64>,
}

/// The demo accounts file, embedded: the template ids go wherever the binary goes.
const ACCOUNTS_TOML: &str = include_str!("../../../data/demo/accounts.toml");

/// The template tenants could not be read from `data/demo/accounts.toml` (only a broken
/// file committed can cause it; this crate's tests parse it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/demo/accounts.toml: {0}")]
pub struct TemplateIdsError(String);

#[derive(Deserialize)]
struct AccountsFile {
    accounts: Vec<AccountIds>,
}

/// The fields of an account read here (`bakery-demo-data` reads and checks the rest).
#[derive(Deserialize)]
struct AccountIds {
    account_type: AccountType,
    tenant_id: Uuid,
    #[serde(default)]
    time_zone: BakeryTimeZone,
}

struct Templates {
    ids: Vec<Uuid>,
    time_zones: Vec<(AccountType, BakeryTimeZone)>,
}

fn parse(text: &str) -> Result<Templates, TemplateIdsError> {
    let file: AccountsFile = toml::from_str(text).map_err(|e| TemplateIdsError(e.to_string()))?;
    if file.accounts.is_empty() {
        return Err(TemplateIdsError("no accounts".to_owned()));
    }
    Ok(Templates {
        ids: file.accounts.iter().map(|a| a.tenant_id).collect(),
        time_zones: file
            .accounts
            .iter()
            .map(|a| (a.account_type, a.time_zone))
            .collect(),
    })
}

static TEMPLATES: LazyLock<Result<Templates, TemplateIdsError>> =
    LazyLock::new(|| parse(ACCOUNTS_TOML));

/// The demo template tenants, in the order of `data/demo/accounts.toml`: never reachable
/// by prospects, never drafted for, never modified.
pub fn template_tenant_ids() -> Result<&'static [Uuid], TemplateIdsError> {
    match &*TEMPLATES {
        Ok(t) => Ok(&t.ids),
        Err(e) => Err(e.clone()),
    }
}

/// The time zone of `account`'s template, which its virtual tenants share (the tenant
/// row's `timezone` is seeded and cloned from the same file). The default should the
/// embedded file not parse (logged; this crate's tests parse it).
pub fn template_time_zone(account: AccountType) -> BakeryTimeZone {
    match &*TEMPLATES {
        Ok(t) => t
            .time_zones
            .iter()
            .find(|(a, _)| *a == account)
            .map(|(_, zone)| *zone)
            .unwrap_or_default(),
        Err(e) => {
            tracing::error!(error = %e, "the template time zones cannot be read");
            BakeryTimeZone::default()
        }
    }
}

/// Whether `id` is a template tenant. Should the embedded file not parse, nothing is
/// recognised here, and callers rely on their other walls (the `is_demo_template` flag,
/// the gateway refusing to start); the failure is logged.
pub fn is_template_tenant(id: Uuid) -> bool {
    match template_tenant_ids() {
        Ok(ids) => ids.contains(&id),
        Err(e) => {
            tracing::error!(error = %e, "the template tenant ids cannot be read");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_accounts_name_two_templates() {
        let ids = template_tenant_ids().expect("accounts.toml parses");
        assert_eq!(ids.len(), 2);
        assert_ne!(ids[0], ids[1]);
        assert!(is_template_tenant(ids[1]));
        assert!(!is_template_tenant(Uuid::new_v4()));
    }

    #[test]
    fn both_templates_keep_madrid_time() {
        for account in AccountType::ALL {
            assert_eq!(template_time_zone(account), BakeryTimeZone::MADRID);
        }
    }

    #[test]
    fn a_broken_file_is_an_error() {
        assert!(parse("accounts = 3").is_err());
        assert!(parse("accounts = []").is_err());
        let one = "[[accounts]]\naccount_type = \"individual_bakery\"\n";
        assert!(parse(&format!("{one}tenant_id = \"nope\"")).is_err());
        let id = "tenant_id = \"00000000-0000-4000-a000-000000000001\"\n";
        assert!(parse(&format!("{one}{id}time_zone = \"Mars/Olympus\"")).is_err());
        let zone = parse(&format!("{one}{id}time_zone = \"Atlantic/Canary\""))
            .map(|t| t.time_zones)
            .unwrap_or_default();
        assert_eq!(zone.first().map(|(_, z)| z.name()), Some("Atlantic/Canary"));
    }

    #[test]
    fn the_list_reads_as_tenant_service_writes_it() {
        let json = r#"{"tenants": [{"id": "00000000-0000-4000-a000-0000000000aa",
            "name": "Horno", "is_demo": false, "is_demo_template": false, "extra": 1}],
            "next_offset": null}"#;
        let list: TenantList = serde_json::from_str(json).expect("parses");
        assert_eq!(list.tenants[0].name, "Horno");
        assert!(list.tenants[0].is_customer());
        assert_eq!(list.next_offset, None);
        let written = serde_json::to_string(&list).expect("serializes");
        assert!(written.starts_with(r#"{"tenants":[{"id":"#), "{written}");
        assert!(
            written.ends_with(r#""limit":0,"offset":0,"next_offset":null}"#),
            "{written}"
        );
    }
}
