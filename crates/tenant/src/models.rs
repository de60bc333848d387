//! Rows of the tenant database.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::schema::{tenants, users};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize, PartialEq, Eq)]
#[diesel(table_name = tenants, check_for_backend(diesel::pg::Pg))]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub business_model: String,
    pub city: String,
    pub country: String,
    pub timezone: String,
    pub is_demo: bool,
    pub is_demo_template: bool,
    pub demo_account_type: Option<String>,
    pub base_demo_tenant_id: Option<Uuid>,
    pub demo_session_id: Option<String>,
    pub demo_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = tenants)]
pub struct NewTenant<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub slug: &'a str,
    pub business_model: &'a str,
    pub city: &'a str,
    /// IANA time zone: where the bakery's days begin and end (`bakery_config::clock`).
    pub timezone: &'a str,
    pub is_demo: bool,
    pub is_demo_template: bool,
    pub demo_account_type: Option<&'a str>,
    pub base_demo_tenant_id: Option<Uuid>,
    pub demo_session_id: Option<&'a str>,
    pub demo_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub email: String,
    #[serde(skip)]
    pub password_hash: String,
    pub full_name: String,
    pub role: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub full_name: &'a str,
    pub role: &'a str,
}
