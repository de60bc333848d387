//! What every service's OpenAPI document shares: the error envelope as a schema, the
//! answers every route may give, and a walk over a document's operations. Each service
//! documents its own handlers (`#[utoipa::path]` next to the handler); the gateway merges
//! the documents and serves them at `GET /api/openapi.json` (docs/api.md).

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
