//! What the gateway checks before anything else: the request target is read exactly one
//! way, and that one reading is what routing, authentication, the demo policy and the
//! upstream all see.
//!
//! Rules (docs/gateway.md explains why):
//! - the path is percent-decoded **once**; an encoded `/`, `\`, `%` (double encoding), `;`,
//!   `?`, `#` or control byte (`%00`…) is refused, as is invalid UTF-8;
//! - a raw `\` or `;` is refused; dot segments (`.`, `..`, also encoded) and empty segments
//!   (`//`) are refused, not resolved; one trailing slash is dropped;
//! - routing and the policy compare paths case-insensitively (`match_path`), the upstream
//!   gets the path in its original case, re-encoded canonically (`forward_path`);
//! - absolute-form targets naming another host, method-override headers or a `_method`
//!   query parameter, URL-rewrite headers and repeated credential headers are refused.
//!
//! Everything refused here answers `400 {"error": "ambiguous_request"}`.

use actix_web::HttpRequest;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::error::GatewayError;

/// Headers that ask a server to act as if the method or target were another one.
const OVERRIDE_HEADERS: &[&str] = &[
    "x-http-method-override",
    "x-method-override",
    "x-http-method",
    "x-original-url",
    "x-rewrite-url",
    "x-original-method",
];

/// Headers that must appear at most once (credentials and framing).
const SINGLE_HEADERS: &[HeaderName] = &[
    header::HOST,
    header::AUTHORIZATION,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::CONTENT_TYPE,
];

/// The custom credential headers that must appear at most once.
pub const DEMO_SESSION_HEADER: &str = "x-demo-session-id";
pub const ADMIN_KEY_HEADER: &str = "x-admin-key";

/// A request target read one way only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRequest {
    pub method: Method,
    /// Decoded path in its original case, no trailing slash (except `/`).
    pub path: String,
    /// `path` in ASCII lowercase: what routing and the policy match.
    pub match_path: String,
    /// `path` re-encoded canonically: what the upstream receives.
    pub forward_path: String,
    /// The query string as the client sent it, with only the bytes a URI cannot carry
    /// (controls, space, `"`, `#`, `<`, `>`, non-ASCII) percent-encoded, as any URL parser
    /// would: the upstream decodes the same parameters the gateway checked.
    pub query: Option<String>,
}

impl CheckedRequest {
    pub fn from_request(req: &HttpRequest) -> Result<Self, GatewayError> {
        check_headers(req)?;
        let uri = req.uri();
        if let Some(authority) = uri.authority() {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
            if !scheme_ok || !authority.as_str().eq_ignore_ascii_case(host) {
                return Err(GatewayError::Ambiguous(
                    "destino absoluto con otro servidor",
                ));
            }
        }
        let path = canonical_path(uri.path())?;
        let query = uri.query().filter(|q| !q.is_empty());
        if let Some(q) = query {
            check_query(q)?;
        }
        Ok(CheckedRequest {
            method: req.method().clone(),
            match_path: path.to_ascii_lowercase(),
            forward_path: encode_path(&path),
            path,
            query: query.map(encode_query),
        })
    }
}

fn check_headers(req: &HttpRequest) -> Result<(), GatewayError> {
    let headers = req.headers();
    if OVERRIDE_HEADERS.iter().any(|h| headers.contains_key(*h)) {
        return Err(GatewayError::Ambiguous(
            "cabecera de cambio de método o ruta",
        ));
    }
    let repeated = |name: &HeaderName| headers.get_all(name).nth(1).is_some();
    if SINGLE_HEADERS.iter().any(repeated)
        || [DEMO_SESSION_HEADER, ADMIN_KEY_HEADER]
            .iter()
            .any(|h| headers.get_all(*h).nth(1).is_some())
    {
        return Err(GatewayError::Ambiguous("cabecera repetida"));
    }
    Ok(())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `raw` once and checks it; see the module documentation.
pub fn canonical_path(raw: &str) -> Result<String, GatewayError> {
    use GatewayError::Ambiguous;
    let bytes = raw.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(Ambiguous("la ruta debe empezar por /"));
    }
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => return Err(Ambiguous("barra invertida en la ruta")),
            b';' => return Err(Ambiguous("parámetros ';' en la ruta")),
            b'%' => {
                let value = match (bytes.get(i + 1), bytes.get(i + 2)) {
                    (Some(h), Some(l)) => match (hex(*h), hex(*l)) {
                        (Some(h), Some(l)) => h << 4 | l,
                        _ => return Err(Ambiguous("codificación % no válida")),
                    },
                    _ => return Err(Ambiguous("codificación % no válida")),
                };
                match value {
                    b'/' | b'\\' => return Err(Ambiguous("separador codificado en la ruta")),
                    b'%' => return Err(Ambiguous("doble codificación en la ruta")),
                    b';' | b'?' | b'#' => return Err(Ambiguous("delimitador codificado")),
                    0..=0x1f | 0x7f => return Err(Ambiguous("carácter de control en la ruta")),
                    _ => decoded.push(value),
                }
                i += 3;
            }
            0..=0x20 | 0x7f => return Err(Ambiguous("carácter de control en la ruta")),
            _ => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    let mut path = String::from_utf8(decoded).map_err(|_| Ambiguous("UTF-8 no válido"))?;
    if path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    if path != "/" {
        for segment in path[1..].split('/') {
            match segment {
                "" => return Err(Ambiguous("segmento vacío (//) en la ruta")),
                "." | ".." => return Err(Ambiguous("segmento . o .. en la ruta")),
                _ => {}
            }
        }
    }
    Ok(path)
}

// Encoding is done by the `percent-encoding` crate (the `url` crate's, well kept and
// fuzzed) with two `AsciiSet`s, instead of by hand; decoding stays in `canonical_path`,
// which must refuse what a lenient decoder would pass through. Non-ASCII bytes are always
// encoded (`%XX`, upper-case hex); the sets name the ASCII ones.

/// What a path re-encodes: every byte but `A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , = : @ /`.
const PATH_ENCODED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b';')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// What a query re-encodes: controls, space, `"`, `#`, `<`, `>` (and non-ASCII); `%`
/// stays, so existing escapes are kept.
const QUERY_ENCODED: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>');

/// Re-encodes a canonical path so the upstream decodes exactly it.
pub fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH_ENCODED).to_string()
}

/// The query, with the bytes a URI cannot carry percent-encoded.
pub fn encode_query(query: &str) -> String {
    utf8_percent_encode(query, QUERY_ENCODED).to_string()
}

/// Refuses a `_method` parameter, however it is encoded.
fn check_query(query: &str) -> Result<(), GatewayError> {
    for pair in query.split('&') {
        let name = pair.split('=').next().unwrap_or("");
        if name.is_empty() {
            continue;
        }
        let mut decoded = Vec::with_capacity(name.len());
        let bytes = name.as_bytes();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'%' => match (
                    bytes.get(i + 1).and_then(|b| hex(*b)),
                    bytes.get(i + 2).and_then(|b| hex(*b)),
                ) {
                    (Some(h), Some(l)) => {
                        decoded.push(h << 4 | l);
                        i += 3;
                    }
                    _ => return Err(GatewayError::Ambiguous("codificación % no válida")),
                },
                b'+' => {
                    decoded.push(b' ');
                    i += 1;
                }
                b => {
                    decoded.push(b);
                    i += 1;
                }
            }
        }
        let name = String::from_utf8_lossy(&decoded);
        let name = name.trim().to_ascii_lowercase();
        if name.contains('%') || name.trim_matches(|c| c == '[' || c == ']') == "_method" {
            return Err(GatewayError::Ambiguous("cambio de método en la consulta"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_pass_unchanged() {
        assert_eq!(
            canonical_path("/api/orders").ok(),
            Some("/api/orders".into())
        );
        assert_eq!(
            canonical_path("/api/orders/").ok(),
            Some("/api/orders".into())
        );
        assert_eq!(canonical_path("/").ok(), Some("/".into()));
        assert_eq!(
            canonical_path("/api/%66orecasts").ok(),
            Some("/api/forecasts".into())
        );
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for bad in [
            "/api/pos/../forecasts",
            "/api/pos/%2e%2e/forecasts",
            "/api/pos/.%2E/forecasts",
            "/api/./forecasts",
            "/api/pos%2fsales",
            "/api/pos%2Fsales",
            "/api/pos%5csales",
            "/api/pos\\sales",
            "/api//forecasts",
            "//api/forecasts",
            "/api/forecasts;x",
            "/api/forecasts%3bx",
            "/api/%252e%252e/x",
            "/api/forecasts%00",
            "/api/forecasts%",
            "/api/forecasts%zz",
            "/api/%ff",
            "api/forecasts",
            "/api/forecasts//",
        ] {
            assert!(canonical_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_paths_decode_to_what_was_checked() {
        assert_eq!(
            encode_path("/api/products/pan de centeno"),
            "/api/products/pan%20de%20centeno"
        );
        assert_eq!(encode_path("/api/products/ñ"), "/api/products/%C3%B1");
        assert_eq!(encode_path("/api/orders"), "/api/orders");
    }

    #[test]
    fn queries_are_forwarded_with_only_unsafe_bytes_encoded() {
        assert_eq!(encode_query("page=2&q=a%20b"), "page=2&q=a%20b");
        assert_eq!(encode_query("q=a\"b<c>#d"), "q=a%22b%3Cc%3E%23d");
        assert_eq!(encode_query("q=ñ"), "q=%C3%B1");
        assert_eq!(encode_query("q={x}|y^`\\"), "q={x}|y^`\\");
        for q in ["q=a\"b", "q=<a>", "q=ñ&x=1"] {
            let uri = format!("http://inventory:8003/api/x?{}", encode_query(q));
            assert!(uri.parse::<hyper::Uri>().is_ok(), "{uri}");
        }
    }

    /// Every ASCII byte is encoded exactly as the hand-written rules did before the
    /// `AsciiSet`s replaced them.
    #[test]
    fn the_sets_keep_the_former_rules() {
        let path_safe = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@/".contains(&b);
        let query_safe = |b: u8| b.is_ascii_graphic() && !b"\"#<>".contains(&b);
        for b in 0u8..=0x7f {
            let text = (b as char).to_string();
            let escaped = format!("%{b:02X}");
            let expect = |safe: bool| if safe { text.clone() } else { escaped.clone() };
            assert_eq!(
                encode_path(&text),
                expect(path_safe(b)),
                "path byte {b:#04x}"
            );
            assert_eq!(
                encode_query(&text),
                expect(query_safe(b)),
                "query byte {b:#04x}"
            );
        }
    }

    #[test]
    fn method_in_query_is_refused() {
        for bad in [
            "_method=DELETE",
            "a=1&_method=PUT",
            "%5Fmethod=x",
            "_METHOD=x",
            "_method",
        ] {
            assert!(check_query(bad).is_err(), "{bad}");
        }
        assert!(check_query("method=x&page=2").is_ok());
    }
}
