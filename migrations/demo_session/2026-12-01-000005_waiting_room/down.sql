DROP INDEX demo_sessions_type_created_idx;
DROP TABLE demo_queue;
