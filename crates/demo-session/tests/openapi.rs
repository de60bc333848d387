//! The route table and the OpenAPI document name the same operations.

use std::collections::BTreeSet;

use bakery_config::openapi::operation_keys;
use bakery_demo_session::{openapi, routes};
use bakery_test_support::routes::route_table;

#[actix_web::test]
async fn every_route_has_a_documented_operation_and_every_operation_a_route() {
    let routes = route_table(routes::configure).await;
    let documented: BTreeSet<_> = operation_keys(&openapi::document()).into_iter().collect();
    assert_eq!(
        routes, documented,
        "route table (left) vs OpenAPI document (right)"
    );
}
