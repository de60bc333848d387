//! Values parsed at the edge: once a handler holds one, it is valid.

use std::fmt;

/// A login address: trimmed, lower-cased, `local@domain`, at most 254 bytes. Emails are
/// unique case-insensitively (`users_email_key` is on `lower(email)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("El correo electrónico es obligatorio.");
        }
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("El correo electrónico no es válido.");
        }
        match s.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(Email(s)),
            _ => Err("El correo electrónico no es válido."),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed: not empty, at most 1024 bytes (hashing is deliberately slow, so
/// the input is bounded). Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MAX_LEN: usize = 1024;

    pub fn parse(raw: String) -> Result<Self, &'static str> {
        if raw.is_empty() {
            return Err("La contraseña es obligatoria.");
        }
        if raw.len() > Self::MAX_LEN {
            return Err("La contraseña es demasiado larga.");
        }
        Ok(Password(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Which tenants the internal list returns (`?demo=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantKind {
    /// `demo=false`: paying customers only (neither virtual nor template).
    Customers,
    /// `demo=true`: demo tenants only (virtual tenants and the templates).
    Demo,
    /// no `demo` parameter: every tenant.
    All,
}

impl From<Option<bool>> for TenantKind {
    fn from(demo: Option<bool>) -> Self {
        match demo {
            Some(false) => TenantKind::Customers,
            Some(true) => TenantKind::Demo,
            None => TenantKind::All,
        }
    }
}

/// `limit`/`offset` of a list, within bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    /// The default is the maximum, so a client that does not page gets as much as allowed.
    pub const DEFAULT_LIMIT: i64 = 500;
    pub const MAX_LIMIT: i64 = 500;

    pub fn parse(limit: Option<i64>, offset: Option<i64>) -> Result<Self, &'static str> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        let offset = offset.unwrap_or(0);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err("`limit` debe estar entre 1 y 500.");
        }
        if offset < 0 {
            return Err("`offset` no puede ser negativo.");
        }
        Ok(Page { limit, offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ana@Horno-A.es ").map(|e| e.to_string()),
            Ok("ana@horno-a.es".to_owned())
        );
        for bad in ["", "   ", "ana", "@horno.es", "ana@", "a na@horno.es"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@x.es", "a".repeat(260))).is_err());
    }

    #[test]
    fn passwords_are_bounded_and_hidden() {
        assert!(Password::parse(String::new()).is_err());
        assert!(Password::parse("x".repeat(2000)).is_err());
        let p = Password::parse("secreto".to_owned()).expect("valid");
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[test]
    fn pages_are_bounded() {
        assert_eq!(
            Page::parse(None, None),
            Ok(Page {
                limit: 500,
                offset: 0
            })
        );
        assert!(Page::parse(Some(501), None).is_err());
        assert!(Page::parse(Some(0), None).is_err());
        assert!(Page::parse(Some(10), Some(-1)).is_err());
    }
}
