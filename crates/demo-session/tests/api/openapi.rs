//! The route table and the OpenAPI document name the same operations.

use bakery_config::openapi::operation_keys;
use bakery_demo_session::{openapi, routes};
use bakery_test_support::routes::assert_routes_documented;

#[actix_web::test]
async fn every_route_has_a_documented_operation_and_every_operation_a_route() {
    assert_routes_documented(routes::configure, operation_keys(&openapi::document()), &[]).await;
}
