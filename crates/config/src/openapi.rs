//! What every service's OpenAPI document shares: the error envelope as a schema, the
//! answers every route may give, and a walk over a document's operations. Each service
//! documents its own handlers (`#[utoipa::path]` next to the handler); the gateway merges
//! the documents and serves them at `GET /api/openapi.json` (docs/api.md).

use actix_web::http::Method;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// Every operation of `api` with its path and lower-case method, in document order.
pub fn operations_mut(api: &mut OpenApi) -> impl Iterator<Item = (&str, &str, &mut Operation)> {
    api.paths.paths.iter_mut().flat_map(|(path, item)| {
        item_operations(item).map(move |(method, op)| (path.as_str(), method, op))
    })
}

/// The operations of one path item with their lower-case methods.
pub fn item_operations(
    item: &mut PathItem,
) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("options", item.options.as_mut()),
        ("head", item.head.as_mut()),
        ("patch", item.patch.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
}

/// The `(method, path)` of every operation of `api`, sorted: what route tables are compared
/// with.
pub fn operation_keys(api: &OpenApi) -> Vec<(String, String)> {
    let mut api = api.clone();
    let mut keys: Vec<(String, String)> = operations_mut(&mut api)
        .map(|(path, method, _)| (method.to_ascii_uppercase(), path.to_owned()))
        .collect();
    keys.sort();
    keys
}

/// An error answer: the JSON envelope (`ErrorBody`), described.
pub fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// Adds the error answer `status` to every operation that does not document it yet and
/// for which `applies(path, method, operation)` holds.
pub fn add_error(
    api: &mut OpenApi,
    status: &str,
    description: &str,
    applies: impl Fn(&str, &str, &Operation) -> bool,
) {
    for (path, method, op) in operations_mut(api) {
        if applies(path, method, op) && !op.responses.responses.contains_key(status) {
            op.responses
                .responses
                .insert(status.to_owned(), RefOr::T(error_response(description)));
        }
    }
}

/// The answers the shared plumbing gives on any route of a service (`http.rs`): a JSON body
/// that is not JSON, of the wrong shape, of the wrong type or too large, and a database that
/// could not answer in time.
pub fn add_common_errors(api: &mut OpenApi) {
    let with_body = |_: &str, _: &str, op: &Operation| op.request_body.is_some();
    add_error(
        api,
        "400",
        "`malformed_json`: el cuerpo no es JSON válido.",
        with_body,
    );
    add_error(
        api,
        "413",
        "`payload_too_large`: el cuerpo es demasiado grande.",
        with_body,
    );
    add_error(
        api,
        "415",
        "`unsupported_media_type`: el cuerpo debe ser `application/json`.",
        with_body,
    );
    add_error(
        api,
        "422",
        "`invalid_body`: JSON con la forma equivocada.",
        with_body,
    );
    add_error(
        api,
        "503",
        "`unavailable` + `Retry-After`: la base de datos no respondió a tiempo; nada cambió.",
        |_, _, _| true,
    );
}

/// `#[openapi(modifiers(&CommonErrors))]`: [`add_common_errors`] on a service's document.
pub struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, api: &mut OpenApi) {
        add_common_errors(api);
    }
}

/// The methods each documented path answers: the `Allow` of a `405` and of `OPTIONS`,
/// read from the same document the route tables are tested against, so it cannot drift
/// from the routes.
#[derive(Debug, Clone, Default)]
pub struct AllowedMethods {
    paths: Vec<DocumentedPath>,
}

#[derive(Debug, Clone)]
struct DocumentedPath {
    /// Lower-case literal segments; `None` for a `{param}`.
    segments: Vec<Option<String>>,
    methods: Vec<Method>,
    allow: String,
}

/// The order `Allow` lists methods in.
const ALLOW_ORDER: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

impl AllowedMethods {
    /// The documented methods of every path of `api`; with `gateway`, `HEAD` wherever `GET`
    /// is documented and `OPTIONS` everywhere (what the gateway answers itself).
    pub fn from_document(api: &OpenApi, gateway: bool) -> Self {
        Self::from_routes(operation_keys(api), gateway)
    }

    /// The same from `(METHOD, "/path/{param}")` pairs (a document's [`operation_keys`], plus
    /// routes no document lists).
    pub fn from_routes(routes: impl IntoIterator<Item = (String, String)>, gateway: bool) -> Self {
        let mut paths: Vec<DocumentedPath> = Vec::new();
        for (method, path) in routes {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            let segments: Vec<Option<String>> = path
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_ascii_lowercase()))
                .collect();
            match paths.iter_mut().find(|p| p.segments == segments) {
                Some(known) => known.methods.push(method),
                None => paths.push(DocumentedPath {
                    segments,
                    methods: vec![method],
                    allow: String::new(),
                }),
            }
        }
        for path in &mut paths {
            if gateway {
                if path.methods.contains(&Method::GET) {
                    path.methods.push(Method::HEAD);
                }
                path.methods.push(Method::OPTIONS);
            }
            path.methods
                .sort_by_key(|m| ALLOW_ORDER.iter().position(|o| o == m));
            path.methods.dedup();
            path.allow = path
                .methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
        }
        AllowedMethods { paths }
    }

    /// The `Allow` of the documented path `path` matches (case-insensitive; a literal segment
    /// wins over a `{param}`, as the routers register them), or `None` for an undocumented
    /// path.
    pub fn allow(&self, path: &str) -> Option<&str> {
        self.documented(path).map(|p| p.allow.as_str())
    }

    /// Whether the documented path `path` matches answers `method`; `None` for an
    /// undocumented path.
    pub fn allows(&self, path: &str, method: &Method) -> Option<bool> {
        self.documented(path).map(|p| p.methods.contains(method))
    }

    /// Runs on every proxied request: no allocation; the path is split once (documented
    /// paths have at most [`MAX_SEGMENTS`] segments: a longer one matches none), and the
    /// segment count rules most paths out before any segment is compared.
    fn documented(&self, path: &str) -> Option<&DocumentedPath> {
        let mut parts = path.split('/');
        let mut segments = [""; MAX_SEGMENTS];
        let mut len = 0;
        for (slot, part) in segments.iter_mut().zip(parts.by_ref()) {
            *slot = part;
            len += 1;
        }
        if parts.next().is_some() {
            return None;
        }
        let segments = segments.get(..len).unwrap_or_default();
        self.paths
            .iter()
            .filter(|p| {
                p.segments.len() == len
                    && p.segments.iter().zip(segments).all(|(t, s)| match t {
                        Some(literal) => literal.eq_ignore_ascii_case(s),
                        None => !s.is_empty(),
                    })
            })
            .max_by_key(|p| p.segments.iter().filter(|s| s.is_some()).count())
    }
}

/// The most segments a documented path has (`/api/demo/session/{id}/convert` has 6,
/// counting the empty one before the first `/`).
const MAX_SEGMENTS: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::OpenApiBuilder;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};

    fn api(routes: &[(HttpMethod, &str)]) -> OpenApi {
        let mut paths = PathsBuilder::new();
        for (method, path) in routes {
            paths = paths.path(
                *path,
                PathItem::new(method.clone(), OperationBuilder::new().build()),
            );
        }
        OpenApiBuilder::new().paths(paths.build()).build()
    }

    #[test]
    fn a_path_longer_than_any_documented_one_is_undocumented() {
        let api = api(&[(HttpMethod::Get, "/api/a/{x}/b")]);
        let allowed = AllowedMethods::from_document(&api, false);
        assert_eq!(allowed.allow("/api/a/1/b"), Some("GET"));
        assert_eq!(allowed.allow("/api/a/1/b/c/d/e/f/g/h/i/j/k"), None);
        assert_eq!(allowed.allow("/api/a//b"), None);
    }

    #[test]
    fn allow_lists_a_paths_documented_methods_and_literal_segments_win() {
        let api = api(&[
            (HttpMethod::Post, "/api/demo/session/create"),
            (HttpMethod::Get, "/api/demo/session/{id}"),
            (HttpMethod::Delete, "/api/demo/session/{id}"),
        ]);
        let service = AllowedMethods::from_document(&api, false);
        assert_eq!(
            service.allow("/api/demo/session/demo_x"),
            Some("GET, DELETE")
        );
        assert_eq!(service.allow("/API/demo/session/create"), Some("POST"));
        assert_eq!(service.allow("/api/demo/session/"), None);
        assert_eq!(service.allow("/api/demo/other"), None);
        let gateway = AllowedMethods::from_document(&api, true);
        assert_eq!(
            gateway.allow("/api/demo/session/demo_x"),
            Some("GET, HEAD, DELETE, OPTIONS")
        );
        assert_eq!(
            gateway.allows("/api/demo/session/create", &Method::GET),
            Some(false)
        );
        assert_eq!(
            gateway.allows("/api/demo/session/x", &Method::HEAD),
            Some(true)
        );
    }
}
