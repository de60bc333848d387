//! A scrape of `GET /metrics`, parsed into `(name, labels) → value`, so tests read as
//! "this number moved": `after.sum("bakery_x_total", &[("kind", "a")]) - before.sum(…)`.

use std::collections::{BTreeMap, HashMap};

/// One sample's labels, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// Every sample of an exposition (text format: Prometheus or OpenMetrics).
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    samples: HashMap<(String, Labels), f64>,
    /// The exposition as served, for assertions on what must never appear in it.
    pub text: String,
}

impl Scrape {
    /// Parses `text`; comment lines (`# TYPE`, `# EOF`, …) are skipped.
    pub fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|line| sample(line).unwrap_or_else(|| panic!("bad sample line: {line:?}")))
            .collect();
        Scrape {
            samples,
            text: text.to_owned(),
        }
    }

    /// `GET url` (a service's `/metrics`), parsed; panics unless it answers `200`.
    pub async fn get(client: &reqwest::Client, url: &str) -> Self {
        let response = client.get(url).send().await.expect("scrape");
        assert_eq!(response.status(), 200, "GET {url}");
        Self::parse(&response.text().await.expect("exposition"))
    }

    /// The value of the sample with exactly these labels (`0` when absent, as a counter
    /// not yet incremented).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let labels: Labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .get(&(name.to_owned(), labels))
            .copied()
            .unwrap_or(0.0)
    }

    /// The sum of every sample of `name` whose labels include `labels`.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.series(name)
            .filter(|(l, _)| {
                labels
                    .iter()
                    .all(|(k, v)| l.get(*k).is_some_and(|x| x == v))
            })
            .map(|(_, v)| v)
            .sum()
    }

    /// Every series of `name`: its labels and value.
    pub fn series<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a Labels, f64)> + 'a {
        self.samples
            .iter()
            .filter(move |((n, _), _)| n == name)
            .map(|((_, l), v)| (l, *v))
    }
}

/// `name{a="x",b="y"} 1.0` (label values escape `\`, `"` and newlines).
fn sample(line: &str) -> Option<((String, Labels), f64)> {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => return None,
    };
    let mut labels = Labels::new();
    let rest = if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices();
        let mut key = String::new();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '}' => break i,
                ',' => {}
                '=' => {
                    let (_, quote) = chars.next()?;
                    if quote != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                }
                c => key.push(c),
            }
        };
        body.get(end + 1..)?
    } else {
        rest
    };
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(((name.to_owned(), labels), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_samples_with_and_without_labels() {
        let scrape = Scrape::parse(
            "# TYPE a counter\n\
             a_total 3\n\
             b_bucket{le=\"+Inf\",route=\"/x/{id}\"} 2\n\
             b_bucket{le=\"0.5\",route=\"/y\"} 1\n\
             c{v=\"q\\\"uote\"} 1.5\n\
             # EOF\n",
        );
        assert_eq!(scrape.value("a_total", &[]), 3.0);
        assert_eq!(
            scrape.value("b_bucket", &[("le", "+Inf"), ("route", "/x/{id}")]),
            2.0
        );
        assert_eq!(scrape.sum("b_bucket", &[]), 3.0);
        assert_eq!(scrape.sum("b_bucket", &[("route", "/y")]), 1.0);
        assert_eq!(scrape.value("c", &[("v", "q\"uote")]), 1.5);
        assert_eq!(scrape.value("missing_total", &[]), 0.0);
    }
}
