//! Typed reads from the environment.
//!
//! Every read records its problem instead of failing at once, so start-up reports all
//! bad variables together, each by name, and then exits non-zero.

use std::collections::HashMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// One variable that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub variable: String,
    pub problem: String,
}

/// Every problem found while loading settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for p in &self.0 {
            writeln!(f, "  {}: {}", p.variable, p.problem)?;
        }
        Ok(())
    }
}

impl ConfigError {
    /// The names of the variables at fault, in the order they were read.
    pub fn variables(&self) -> Vec<&str> {
        self.0.iter().map(|p| p.variable.as_str()).collect()
    }
}

type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// A source of variables plus the problems found so far.
pub struct Env<'a> {
    lookup: Lookup<'a>,
    problems: Vec<ConfigProblem>,
}

impl Env<'static> {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        Env {
            lookup: Box::new(|k| std::env::var(k).ok()),
            problems: Vec::new(),
        }
    }
}

impl<'a> Env<'a> {
    /// Reads from a map: tests use this instead of mutating the process environment.
    pub fn from_map(map: &'a HashMap<String, String>) -> Self {
        Env {
            lookup: Box::new(move |k| map.get(k).cloned()),
            problems: Vec::new(),
        }
    }

    fn raw(&self, key: &str) -> Option<String> {
        (self.lookup)(key).filter(|v| !v.trim().is_empty())
    }

    /// Records that `key` cannot be used, for a check no typed read expresses.
    pub fn report(&mut self, key: &str, problem: impl Into<String>) {
        self.problems.push(ConfigProblem {
            variable: key.to_owned(),
            problem: problem.into(),
        });
    }

    /// The value of `key` parsed as `T`, or `default` when unset. A malformed value is
    /// recorded as a problem (and `default` is returned so loading can go on).
    pub fn or<T: FromStr>(&mut self, key: &str, default: T) -> T {
        match self.raw(key) {
            None => default,
            Some(v) => match v.trim().parse::<T>() {
                Ok(parsed) => parsed,
                Err(_) => {
                    self.report(
                        key,
                        format!("cannot parse {v:?} as {}", short_type_name::<T>()),
                    );
                    default
                }
            },
        }
    }

    /// Like [`Env::or`], and the value must also pass `check` (described by `rule`).
    pub fn or_checked<T: FromStr + Clone>(
        &mut self,
        key: &str,
        default: T,
        rule: &str,
        check: impl Fn(&T) -> bool,
    ) -> T {
        let value = self.or(key, default.clone());
        if check(&value) {
            value
        } else {
            self.report(key, format!("must be {rule}"));
            default
        }
    }

    /// Like [`Env::or`], and the value must lie in `range` (a problem worded
    /// "must be between {start} and {end}" otherwise).
    pub fn in_range<T>(&mut self, key: &str, default: T, range: RangeInclusive<T>) -> T
    where
        T: FromStr + Clone + PartialOrd + fmt::Display,
    {
        let rule = format!("between {} and {}", range.start(), range.end());
        self.or_checked(key, default, &rule, |v| range.contains(v))
    }

    /// A number of seconds in `range` (see [`Env::in_range`]).
    pub fn seconds(&mut self, key: &str, default: u64, range: RangeInclusive<u64>) -> Duration {
        Duration::from_secs(self.in_range(key, default, range))
    }

    /// A number of milliseconds in `range` (see [`Env::in_range`]).
    pub fn millis(&mut self, key: &str, default: u64, range: RangeInclusive<u64>) -> Duration {
        Duration::from_millis(self.in_range(key, default, range))
    }

    /// A value that has no default: missing is a problem.
    pub fn required<T: FromStr + Default>(&mut self, key: &str) -> T {
        match self.raw(key) {
            None => {
                self.report(key, "is required and not set");
                T::default()
            }
            Some(_) => self.or(key, T::default()),
        }
    }

    /// An optional value: unset gives `None`, malformed is a problem.
    pub fn optional<T: FromStr>(&mut self, key: &str) -> Option<T> {
        let raw = self.raw(key)?;
        match raw.trim().parse::<T>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.report(
                    key,
                    format!("cannot parse {raw:?} as {}", short_type_name::<T>()),
                );
                None
            }
        }
    }

    /// A secret: required, at least `min_len` bytes, never defaulted.
    pub fn secret(&mut self, key: &str, min_len: usize) -> Secret {
        let value: String = self.required(key);
        if !value.is_empty() && value.len() < min_len {
            self.report(key, format!("must be at least {min_len} characters long"));
        }
        Secret::new(value)
    }

    /// Ends loading: every problem found, or the settings.
    pub fn finish<T>(self, settings: T) -> Result<T, ConfigError> {
        if self.problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigError(self.problems))
        }
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    match full {
        "u16" | "u32" | "u64" | "usize" | "i64" => "a whole number",
        "bool" => "true or false",
        _ => full.rsplit("::").next().unwrap_or(full),
    }
}

/// A value that must never be logged. Held in `secrecy`'s [`SecretString`] rather than a
/// bare `String`: the well-kept way to keep a key out of `{:?}` output and to zero its
/// memory when dropped, read only where [`Secret::expose`] says so.
#[derive(Clone, Default)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Loads settings from the process environment, or prints every problem by name and
/// exits with status 2. For `main` functions only.
#[expect(
    clippy::print_stderr,
    reason = "bad settings are printed for the operator: telemetry is not set up yet"
)]
pub fn load_or_exit<T>(load: impl FnOnce(&mut Env<'static>) -> T) -> T {
    let mut env = Env::from_process();
    let settings = load(&mut env);
    match env.finish(settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_apply_when_unset() {
        let m = map(&[]);
        let mut env = Env::from_map(&m);
        let v: u32 = env.or("DEMO_SESSION_DURATION_MINUTES", 30);
        assert_eq!(env.finish(v), Ok(30));
    }

    #[test]
    fn malformed_value_is_reported_by_name() {
        let m = map(&[("DEMO_SESSION_DURATION_MINUTES", "treinta")]);
        let mut env = Env::from_map(&m);
        let _: u32 = env.or("DEMO_SESSION_DURATION_MINUTES", 30);
        let err = env.finish(()).expect_err("must fail");
        assert_eq!(err.variables(), vec!["DEMO_SESSION_DURATION_MINUTES"]);
        assert!(err.to_string().contains("treinta"));
    }

    #[test]
    fn every_problem_is_reported_together() {
        let m = map(&[("A", "x"), ("C", "short")]);
        let mut env = Env::from_map(&m);
        let _: u16 = env.or("A", 1);
        let _: String = env.required("B");
        let _ = env.secret("C", 32);
        let err = env.finish(()).expect_err("must fail");
        assert_eq!(err.variables(), vec!["A", "B", "C"]);
    }

    #[test]
    fn ranges_name_their_bounds() {
        let m = map(&[("A", "0"), ("B", "61"), ("C", "250")]);
        let mut env = Env::from_map(&m);
        let _ = env.in_range("A", 5u32, 1..=10);
        let _ = env.seconds("B", 30, 1..=60);
        let c = env.millis("C", 1000, 1..=60_000);
        let d = env.seconds("D", 30, 1..=60);
        assert_eq!(
            (c, d),
            (Duration::from_millis(250), Duration::from_secs(30))
        );
        let err = env.finish(()).expect_err("must fail");
        assert_eq!(err.variables(), vec!["A", "B"]);
        assert!(
            err.to_string().contains("A: must be between 1 and 10"),
            "{err}"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }
}
