//! The demo policy: data, not code. Loaded at start-up from `DEMO_POLICY_FILE` (TOML, or
//! JSON when the name ends in `.json`) or the embedded `policy/default.toml`, and served
//! as JSON by `GET /api/demo/policy` so the web page can hide what would be refused.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The policy the gateway ships with (the contract's default).
pub const DEFAULT_POLICY: &str = include_str!("../policy/default.toml");

/// One rule: methods (`*` for any) and a path pattern.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub methods: Vec<String>,
    pub path: String,
}

/// What a demo session may do (`GET /api/demo/policy`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemoPolicy {
    /// The `message` of the `403 demo_restriction` answer.
    pub message: String,
    /// Checked first: a match is refused.
    #[serde(default)]
    pub deny: Vec<Rule>,
    /// Then these: a match is allowed. Anything else is refused.
    #[serde(default)]
    pub allow: Vec<Rule>,
}

/// Which rule refused a demo request (the `rule` label of
/// `bakery_gateway_demo_refusals_total`): `deny <path pattern>` for a deny rule that matched,
/// [`RuleName::NOT_ALLOWED`] when no allow rule did. Made only from the loaded policy, so the
/// set of values is the policy's deny rules plus one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleName(Arc<str>);

impl RuleName {
    /// No allow rule matched.
    pub const NOT_ALLOWED: &str = "not_allowed";

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl bakery_config::metrics::prometheus_client::encoding::EncodeLabelValue for RuleName {
    fn encode(
        &self,
        encoder: &mut bakery_config::metrics::prometheus_client::encoding::LabelValueEncoder,
    ) -> Result<(), std::fmt::Error> {
        bakery_config::metrics::prometheus_client::encoding::EncodeLabelValue::encode(
            &self.as_str(),
            encoder,
        )
    }
}

/// A rule prepared for matching: upper-case methods, lower-case segments.
#[derive(Debug, Clone)]
struct CompiledRule {
    /// Its name when it refuses (deny rules only).
    name: RuleName,
    any_method: bool,
    methods: Vec<String>,
    segments: Vec<String>,
    /// The pattern ended in `/**`: the path itself and everything below match.
    subtree: bool,
}

impl CompiledRule {
    fn new(rule: &Rule) -> anyhow::Result<Self> {
        anyhow::ensure!(
            rule.path.starts_with('/'),
            "path pattern {:?} must start with /",
            rule.path
        );
        anyhow::ensure!(
            !rule.methods.is_empty(),
            "rule {:?} has no methods",
            rule.path
        );
        let (base, subtree) = match rule.path.strip_suffix("/**") {
            Some(base) => (base, true),
            None => (rule.path.as_str(), false),
        };
        let segments: Vec<String> = base
            .split('/')
            .skip(1)
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        anyhow::ensure!(
            segments.iter().all(|s| s != "**" && s != "." && s != ".."),
            "path pattern {:?}: `**` only at the end, no dot segments",
            rule.path
        );
        Ok(CompiledRule {
            name: RuleName(format!("deny {}", rule.path).into()),
            any_method: rule.methods.iter().any(|m| m == "*"),
            methods: rule
                .methods
                .iter()
                .map(|m| m.to_ascii_uppercase())
                .collect(),
            segments,
            subtree,
        })
    }

    /// `path` is already normalised and lower-case.
    fn matches(&self, method: &str, path: &str) -> bool {
        if !self.any_method && !self.methods.iter().any(|m| m == method) {
            return false;
        }
        let mut parts = path.split('/').skip(1).filter(|s| !s.is_empty());
        for pattern in &self.segments {
            match parts.next() {
                Some(part) if pattern == "*" || pattern == part => {}
                _ => return false,
            }
        }
        self.subtree || parts.next().is_none()
    }
}

/// The policy, ready to check requests.
#[derive(Debug, Clone)]
pub struct Policy {
    document: DemoPolicy,
    deny: Vec<CompiledRule>,
    allow: Vec<CompiledRule>,
    not_allowed: RuleName,
}

/// Why a demo request was refused: the message of the `403`, and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub rule: RuleName,
}

impl Policy {
    pub fn new(document: DemoPolicy) -> anyhow::Result<Self> {
        let compile = |rules: &[Rule]| -> anyhow::Result<Vec<CompiledRule>> {
            rules.iter().map(CompiledRule::new).collect()
        };
        Ok(Policy {
            deny: compile(&document.deny)?,
            allow: compile(&document.allow)?,
            not_allowed: RuleName(RuleName::NOT_ALLOWED.into()),
            document,
        })
    }

    /// The embedded default.
    pub fn default_policy() -> anyhow::Result<Self> {
        Self::parse(DEFAULT_POLICY, false).context("the embedded policy/default.toml")
    }

    /// `DEMO_POLICY_FILE`, or the default when `None`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Self::default_policy();
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("DEMO_POLICY_FILE: cannot read {}", path.display()))?;
        let json = path.extension().is_some_and(|e| e == "json");
        Self::parse(&text, json)
            .with_context(|| format!("DEMO_POLICY_FILE: invalid policy in {}", path.display()))
    }

    pub fn parse(text: &str, json: bool) -> anyhow::Result<Self> {
        let document: DemoPolicy = if json {
            serde_json::from_str(text)?
        } else {
            toml::from_str(text)?
        };
        Self::new(document)
    }

    /// The policy as loaded (served by `GET /api/demo/policy`).
    pub fn document(&self) -> &DemoPolicy {
        &self.document
    }

    /// Checks a demo request; `match_path` is normalised and lower-case.
    pub fn check(&self, method: &str, match_path: &str) -> Result<(), Refusal> {
        let rule = match self.deny.iter().find(|r| r.matches(method, match_path)) {
            Some(deny) => &deny.name,
            None if self.allow.iter().any(|r| r.matches(method, match_path)) => return Ok(()),
            None => &self.not_allowed,
        };
        Err(Refusal {
            message: self.document.message.clone(),
            rule: rule.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::default_policy().expect("default policy")
    }

    #[test]
    fn default_policy_is_the_contract() {
        let p = policy();
        for (method, path) in [
            ("GET", "/api/inventory/ingredients"),
            ("GET", "/api/tenants/me"),
            ("HEAD", "/api/products"),
            ("POST", "/api/pos/sales"),
            ("POST", "/api/orders"),
            ("POST", "/api/inventory/adjustments"),
        ] {
            assert_eq!(p.check(method, path), Ok(()), "{method} {path}");
        }
        for (method, path) in [
            ("GET", "/api/forecasts"),
            ("GET", "/api/forecasts/run"),
            ("POST", "/api/forecasts"),
            ("POST", "/api/pos/sales/1"),
            ("POST", "/api/orders/1/cancel"),
            ("POST", "/api/production/batches"),
            ("PUT", "/api/orders"),
            ("PATCH", "/api/inventory/adjustments"),
            ("DELETE", "/api/orders"),
            ("OPTIONS", "/api/orders"),
            ("TRACE", "/api/orders"),
            ("delete", "/api/orders"),
        ] {
            assert!(p.check(method, path).is_err(), "{method} {path}");
        }
        let rule = |method, path| {
            p.check(method, path)
                .map_err(|r| r.rule.as_str().to_owned())
        };
        assert_eq!(
            rule("GET", "/api/forecasts"),
            Err("deny /api/forecasts/**".into())
        );
        assert_eq!(
            rule("PUT", "/api/orders"),
            Err(RuleName::NOT_ALLOWED.into())
        );
        assert!(
            p.document()
                .message
                .starts_with("Esta operación no está permitida en cuentas demo")
        );
    }

    #[test]
    fn policy_files_load_by_extension() {
        let dir = std::env::temp_dir().join(format!("gateway-policy-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let toml_file = dir.join("strict.toml");
        std::fs::write(
            &toml_file,
            "message = \"no\"\n[[allow]]\nmethods = [\"GET\"]\npath = \"/api/products/**\"\n",
        )
        .expect("write");
        let json_file = dir.join("open.json");
        std::fs::write(
            &json_file,
            r#"{"message":"no","allow":[{"methods":["*"],"path":"/**"}]}"#,
        )
        .expect("write");
        let strict = Policy::load(Some(&toml_file)).expect("toml file");
        assert_eq!(strict.check("GET", "/api/products/1"), Ok(()));
        assert!(strict.check("GET", "/api/orders").is_err());
        let open = Policy::load(Some(&json_file)).expect("json file");
        assert_eq!(open.check("DELETE", "/api/orders/1"), Ok(()));
        assert!(Policy::load(Some(&dir.join("missing.toml"))).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn json_policies_load_and_bad_ones_are_refused() {
        let p = Policy::parse(
            r#"{"message":"no","allow":[{"methods":["*"],"path":"/api/*/x"}]}"#,
            true,
        )
        .expect("json policy");
        assert_eq!(p.check("PUT", "/api/a/x"), Ok(()));
        assert!(p.check("PUT", "/api/a/y").is_err());
        assert!(
            Policy::parse(
                r#"message = "x"
[[allow]]
methods = ["GET"]
path = "/api/**/x"
"#,
                false
            )
            .is_err()
        );
        assert!(Policy::parse("message = 1", false).is_err());
    }
}
