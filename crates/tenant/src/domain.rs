//! Values parsed at the edge: once a handler holds one, it is valid.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

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
/// the input is bounded). Never printed: held in `secrecy`'s [`SecretString`] (redacted
/// `Debug`, memory zeroed when dropped), read only through [`Password::expose`].
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub const MAX_LEN: usize = 1024;
    /// The shortest password a new account may choose.
    pub const MIN_NEW_LEN: usize = 10;

    pub fn parse(raw: String) -> Result<Self, &'static str> {
        if raw.is_empty() {
            return Err("La contraseña es obligatoria.");
        }
        if raw.len() > Self::MAX_LEN {
            return Err("La contraseña es demasiado larga.");
        }
        Ok(Password(SecretString::from(raw)))
    }

    /// A password chosen for a new account: [`Password::parse`]'s bounds, at least
    /// [`Password::MIN_NEW_LEN`] characters, and not all of one class (lower-case letters,
    /// upper-case letters, digits, anything else).
    pub fn parse_new(raw: String) -> Result<Self, &'static str> {
        let password = Password::parse(raw)?;
        let s = password.expose();
        if s.chars().count() < Self::MIN_NEW_LEN {
            return Err("La contraseña debe tener al menos 10 caracteres.");
        }
        let classes = [
            s.chars().any(char::is_lowercase),
            s.chars().any(char::is_uppercase),
            s.chars().any(|c| c.is_ascii_digit()),
            s.chars()
                .any(|c| !c.is_lowercase() && !c.is_uppercase() && !c.is_ascii_digit()),
        ];
        if classes.iter().filter(|c| **c).count() < 2 {
            return Err(
                "La contraseña debe combinar al menos dos tipos de caracteres (minúsculas, mayúsculas, números, símbolos).",
            );
        }
        Ok(password)
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
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
        assert_eq!(p.expose(), "secreto");
    }

    #[test]
    fn new_passwords_are_long_and_mixed() {
        for weak in ["corta1", "solominusculas", "1234567890123", "ÑÑÑÑÑÑÑÑÑÑ"] {
            assert!(Password::parse_new(weak.to_owned()).is_err(), "{weak}");
        }
        for strong in ["horno de leña 1", "PanDeMasaMadre", "pan-de-masa-madre"] {
            assert!(Password::parse_new(strong.to_owned()).is_ok(), "{strong}");
        }
    }
}
