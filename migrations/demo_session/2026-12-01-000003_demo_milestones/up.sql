-- The demo funnel (docs/demo-sessions.md, "The funnel"): what each demo session did, as a
-- closed vocabulary of milestones. No personal data: session ids are random, and nothing
-- about the client (address, user agent) is kept. The primary key keeps the FIRST
-- occurrence of each (milestone, detail) per session (inserts use ON CONFLICT DO NOTHING),
-- so a session has at most as many rows as the vocabulary has words, whatever a client
-- sends. No foreign key to demo_sessions: inserts select the session (and its account
-- type) from it, and the funnel outlives the sessions' rows by design.
CREATE TABLE demo_milestones (
    session_id        text NOT NULL CHECK (session_id ~ '^demo_[A-Za-z0-9_-]{22,64}$'),
    demo_account_type text NOT NULL CHECK (demo_account_type IN ('individual_bakery', 'central_baker_satellite')),
    milestone         text NOT NULL CHECK (milestone IN ('created', 'screen_viewed', 'first_write',
                          'blocked_action', 'extended', 'ended_by_user', 'expired',
                          'signup_started', 'converted')),
    detail            text NOT NULL DEFAULT '',
    occurred_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, milestone, detail),
    CONSTRAINT demo_milestones_detail_check CHECK (CASE milestone
        WHEN 'screen_viewed' THEN detail IN ('panel', 'ingredientes', 'productos', 'pedidos',
                                             'venta', 'prevision', 'recipe_costing')
        WHEN 'first_write' THEN detail IN ('sale', 'order', 'adjustment')
        WHEN 'blocked_action' THEN length(detail) BETWEEN 1 AND 120
        ELSE detail = '' END)
);
-- the stats' cohorts (sessions created in a range) and blocked actions in a range
CREATE INDEX demo_milestones_milestone_occurred_idx ON demo_milestones (milestone, occurred_at);
-- retention: the oldest rows first
CREATE INDEX demo_milestones_occurred_idx ON demo_milestones (occurred_at);
