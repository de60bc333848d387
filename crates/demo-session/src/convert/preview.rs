//! What a conversion would keep, before the prospect signs up: per data set, the rows of
//! each table it carries (`GET /api/demo/session/{id}/convert`, the sign-up form's counts).
//!
//! Read from the same [`ConvertPlan`] the copy runs, with the same row filters (current
//! stock lots only, their movements), so the counts are what [`super::copy_kept`] would copy
//! right now. One statement, one bounded `count(*)` per table (at most [`COUNT_LIMIT`] rows
//! are counted per table: a figure for a person, not an audit), in a read-only transaction
//! scoped to the virtual tenant (row-level security applies).

use std::collections::BTreeMap;

use bakery_config::db::{self, AsyncPgConnection};
use diesel::sql_query;
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use uuid::Uuid;

use super::{ConvertPlan, DataSet, TableCount};

/// The most rows counted in one table; a table with more shows this number and
/// `capped: true`.
pub const COUNT_LIMIT: i64 = 100_000;

/// `200` of `GET /api/demo/session/{id}/convert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KeepPreview {
    /// The five data sets, in the order of `keep`'s documentation.
    pub data_sets: Vec<DataSetPreview>,
    /// The most rows counted per table.
    pub count_limit: i64,
}

/// One data set: what it needs, and the rows it would keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DataSetPreview {
    /// `catalog`, `suppliers`, `stock`, `orders` or `sales`.
    #[schema(value_type = crate::openapi::DataSet)]
    pub id: DataSet,
    /// The data sets kept with it (its dependencies, transitively).
    #[schema(value_type = Vec<crate::openapi::DataSet>)]
    pub needs: Vec<DataSet>,
    /// Rows per table this data set copies.
    pub tables: BTreeMap<String, i64>,
    /// Their sum.
    pub rows: i64,
    /// A table had more than `count_limit` rows (its count is the limit).
    pub capped: bool,
}

impl ConvertPlan {
    /// One statement: per table a data set can carry, its rows of `$1` under the copy's
    /// filter, counted up to [`COUNT_LIMIT`] (+1, to tell "exactly the limit" from "more").
    fn preview_sql(&self) -> String {
        self.copies
            .iter()
            .map(|c| {
                format!(
                    "SELECT '{t}'::text AS table_name, \
                     (SELECT count(*) FROM (SELECT 1 FROM {t} s WHERE {source} \
                     LIMIT {limit}) b) AS n",
                    t = c.table,
                    source = c.source_rows("$1"),
                    limit = COUNT_LIMIT + 1,
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    }

    /// The data set each counted table belongs to.
    fn set_of(&self, table: &str) -> Option<DataSet> {
        self.copies.iter().find(|c| c.table == table).map(|c| c.set)
    }
}

/// What each data set of `tenant` (a virtual tenant) would keep now.
pub async fn keep_preview(
    conn: &mut AsyncPgConnection,
    plan: &ConvertPlan,
    tenant: Uuid,
) -> Result<KeepPreview, diesel::result::Error> {
    let sql = plan.preview_sql();
    let rows = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |c| {
            db::scope_to_tenant(c, tenant).await?;
            sql_query(&sql)
                .bind::<SqlUuid, _>(tenant)
                .load::<TableCount>(c)
                .await
        })
        .await?;
    let mut data_sets: Vec<DataSetPreview> = DataSet::ALL
        .into_iter()
        .map(|set| DataSetPreview {
            id: set,
            needs: super::Keep::closure([set])
                .sets()
                .filter(|s| *s != set)
                .collect(),
            tables: BTreeMap::new(),
            rows: 0,
            capped: false,
        })
        .collect();
    for row in rows {
        let Some(set) = plan.set_of(&row.table_name) else {
            continue;
        };
        if let Some(preview) = data_sets.iter_mut().find(|p| p.id == set) {
            let n = row.n.min(COUNT_LIMIT);
            preview.capped |= row.n > COUNT_LIMIT;
            preview.rows += n;
            preview.tables.insert(row.table_name, n);
        }
    }
    Ok(KeepPreview {
        data_sets,
        count_limit: COUNT_LIMIT,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> ConvertPlan {
        let copy = |table: &str, set, filter| super::super::TableCopy {
            table: table.to_owned(),
            set,
            filter,
            columns: String::new(),
            select: String::new(),
            joins: String::new(),
            shared: false,
        };
        ConvertPlan {
            tables: vec!["suppliers".into(), "stock_lots".into()],
            copies: vec![
                copy("suppliers", DataSet::Suppliers, None),
                copy("stock_lots", DataSet::Stock, Some("s.quantity > 0")),
            ],
            foreign_key_checks: crate::cloner::ForeignKeyChecks::SkippedForCopy,
        }
    }

    #[test]
    fn the_copy_skips_foreign_key_triggers_only_where_the_plan_says() {
        let keep = crate::convert::Keep::closure([DataSet::Stock, DataSet::Suppliers]);
        let (source, target) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let replica = "set_config('session_replication_role', 'replica', true)";
        assert!(plan().copy_script(&keep, source, target).contains(replica));
        let checked = plan().with_foreign_key_checks(crate::cloner::ForeignKeyChecks::PerRow);
        assert!(!checked.copy_script(&keep, source, target).contains(replica));
    }

    #[test]
    fn one_bounded_count_per_table_with_the_copys_filter() {
        let sql = plan().preview_sql();
        assert_eq!(sql.matches("count(*)").count(), 2);
        assert_eq!(sql.matches("LIMIT 100001").count(), 2);
        assert!(sql.contains("FROM stock_lots s WHERE s.tenant_id = $1 AND s.quantity > 0"));
        assert!(sql.contains("FROM suppliers s WHERE s.tenant_id = $1 LIMIT"));
        assert_eq!(plan().set_of("stock_lots"), Some(DataSet::Stock));
        assert_eq!(plan().set_of("forecast_models"), None);
    }
}
