//! Raw SQL that PostgreSQL prepares once per connection.
//!
//! `diesel::sql_query` marks its statement unsafe to cache (its text may be built at run
//! time, and a cache keyed by text would then grow without bound), so every execution
//! prepares it again: one more round trip to the server each time. A statement whose text
//! is a `&'static str` is one of a fixed set, so [`static_sql`] lets diesel-async's
//! per-connection statement cache keep it (keyed by its text and bind types): after the
//! first use on a connection it is a single round trip, like a query built with the DSL.
//!
//! Name the columns a cached statement answers (no `SELECT *` or `RETURNING *`): a
//! prepared statement whose result columns change under it (a migration adding one while
//! an older replica runs) fails with "cached plan must not change result type".

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, BoxedSqlQuery, Query, QueryFragment, QueryId, SqlQuery};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};

/// A raw statement whose text is fixed at compile time; bind its parameters with
/// [`StaticSql::bind`] as with `sql_query`, and run it with `diesel_async::RunQueryDsl`.
pub fn static_sql<'f>(sql: &'static str) -> StaticSql<'f> {
    StaticSql(diesel::sql_query(sql).into_boxed())
}

/// See [`static_sql`].
#[must_use = "a statement does nothing until it is run"]
pub struct StaticSql<'f>(BoxedSqlQuery<'f, Pg, SqlQuery>);

impl<'f> StaticSql<'f> {
    /// Binds the next `$n` parameter (SQL type `ST`).
    pub fn bind<ST, V>(self, value: V) -> Self
    where
        Pg: HasSqlType<ST>,
        V: ToSql<ST, Pg> + Send + 'f,
        ST: Send + 'f,
    {
        Self(self.0.bind::<ST, V>(value))
    }
}

impl QueryFragment<Pg> for StaticSql<'_> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    // the text is one of the program's constants: caching it by text is bounded
    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl QueryId for StaticSql<'_> {
    type QueryId = ();
    // no type tells one statement from another: the cache keys it by its text
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for StaticSql<'_> {
    type SqlType = Untyped;
}
