DROP TABLE demo_sessions;
