//! The route table and the OpenAPI document name the same operations.

use std::collections::BTreeSet;

use bakery_config::openapi::operation_keys;
use bakery_tenant::{openapi, routes};
use bakery_test_support::routes::route_table;

#[actix_web::test]
async fn every_route_has_a_documented_operation_and_every_operation_a_route() {
    let mut routes = route_table(routes::configure).await;
    for (method, path) in openapi::INTERNAL_ROUTES {
        assert!(
            routes.remove(&((*method).to_owned(), (*path).to_owned())),
            "{method} {path} is listed as internal but is not a route"
        );
    }
    let documented: BTreeSet<_> = operation_keys(&openapi::document()).into_iter().collect();
    assert_eq!(
        routes, documented,
        "route table (left) vs OpenAPI document (right)"
    );
}
