//! `GET /api/demo/stats`: what operators watch.

use diesel::sql_query;
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::{DemoError, InternalError};

#[derive(diesel::QueryableByName)]
struct Json {
    #[diesel(sql_type = Text)]
    stats: String,
}

/// The cap and the waiting room's bound, as configured.
pub struct Capacity {
    pub max_active_sessions: i32,
    pub queue_max: i32,
}

/// One query, one JSON document.
pub async fn collect(
    conn: &mut AsyncPgConnection,
    max_extensions: i32,
    warm_pool_target: i32,
    capacity: Capacity,
) -> Result<serde_json::Value, DemoError> {
    let row: Json = sql_query(
        "SELECT json_build_object(
            'total', (SELECT count(*) FROM demo_sessions),
            'capacity', json_build_object(
                'max_active_sessions', $3,
                'queue_max', $4,
                'queue_waiting', (SELECT count(*) FROM demo_queue WHERE session_id IS NULL
                                  AND last_polled_at > clock_timestamp() - make_interval(secs => 30))),
            'active', (SELECT count(*) FROM demo_sessions
                       WHERE status IN ('pending', 'ready') AND expires_at > now()),
            'by_status', (SELECT coalesce(json_object_agg(status, n), '{}') FROM
                          (SELECT status, count(*) AS n FROM demo_sessions GROUP BY status) s),
            'by_account_type', (SELECT coalesce(json_object_agg(demo_account_type, by_status), '{}') FROM
                          (SELECT demo_account_type, json_object_agg(status, n) AS by_status FROM
                             (SELECT demo_account_type, status, count(*) AS n FROM demo_sessions
                              GROUP BY 1, 2) x GROUP BY 1) a),
            'created_per_hour', (SELECT coalesce(json_agg(json_build_object('hour', h, 'sessions', n)
                                                  ORDER BY h), '[]') FROM
                          (SELECT date_trunc('hour', created_at) AS h, count(*) AS n FROM demo_sessions
                           WHERE created_at > now() - interval '24 hours' GROUP BY 1) c),
            'extensions', (SELECT json_build_object(
                               'total', coalesce(sum(extensions_used), 0),
                               'average_per_session', coalesce(round(avg(extensions_used), 2), 0),
                               'sessions_at_maximum', count(*) FILTER (WHERE extensions_used >= $1))
                           FROM demo_sessions),
            'clone_ms', (SELECT json_build_object(
                             'p50', percentile_cont(0.5) WITHIN GROUP (ORDER BY clone_duration_ms),
                             'p95', percentile_cont(0.95) WITHIN GROUP (ORDER BY clone_duration_ms),
                             'max', max(clone_duration_ms))
                         FROM demo_sessions WHERE clone_duration_ms IS NOT NULL),
            'session_minutes', (SELECT json_build_object(
                             'average', round(avg(extract(epoch FROM (ended_at - created_at)) / 60)::numeric, 1),
                             'p50', round((percentile_cont(0.5) WITHIN GROUP
                                    (ORDER BY extract(epoch FROM (ended_at - created_at))) / 60)::numeric, 1))
                         FROM demo_sessions WHERE ended_at IS NOT NULL AND status <> 'failed'),
            'cleanup', (SELECT json_build_object(
                            'awaiting', count(*) FILTER (WHERE destroyed_at IS NULL AND status IN ('expired', 'failed')),
                            'with_errors', count(*) FILTER (WHERE last_cleanup_error IS NOT NULL))
                        FROM demo_sessions),
            'warm_pool', (SELECT json_build_object(
                              'target', $2,
                              'ready', coalesce(json_object_agg(demo_account_type, n), '{}'))
                          FROM (SELECT demo_account_type, count(*) AS n FROM warm_tenants
                                WHERE ready AND cloned_for = demo_today() GROUP BY 1) w)
        )::text AS stats",
    )
    .bind::<Integer, _>(max_extensions)
    .bind::<Integer, _>(warm_pool_target)
    .bind::<Integer, _>(capacity.max_active_sessions)
    .bind::<Integer, _>(capacity.queue_max)
    .get_result(conn)
    .await?;
    serde_json::from_str(&row.stats).map_err(|e| InternalError::Stats(e).into())
}
