-- The waiting room: at the global cap a create takes a place in line instead of a refusal.
-- First come, first served (`position`, an identity, orders arrivals across replicas); one
-- waiting place per client (a keyed hash of its address, never the address); a place not
-- polled for 30 s is abandoned (ignored at once, deleted by the next enqueue or cleanup
-- pass). When its turn comes, the poll that finds it admits it: `session_id` records the
-- session made for it, so a lost answer is answered again by the next poll.
CREATE TABLE demo_queue (
    token             text PRIMARY KEY CHECK (token ~ '^q_[A-Za-z0-9]{32}$'),
    position          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    demo_account_type text NOT NULL CHECK (demo_account_type IN ('individual_bakery', 'central_baker_satellite')),
    client_ip_hash    text NOT NULL,
    enqueued_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_polled_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    session_id        text REFERENCES demo_sessions (id) ON DELETE CASCADE,
    admitted_at       timestamptz
);
-- one waiting place per client address
CREATE UNIQUE INDEX demo_queue_client_waiting_idx ON demo_queue (client_ip_hash) WHERE session_id IS NULL;
-- places ahead of a given one: a range scan on the waiting places
CREATE INDEX demo_queue_waiting_idx ON demo_queue (position, last_polled_at) WHERE session_id IS NULL;
CREATE INDEX demo_queue_admitted_idx ON demo_queue (admitted_at) WHERE session_id IS NOT NULL;

-- The warm pool follows the arrival rate per account type: an exponentially weighted sum
-- over the sessions created in the last few minutes.
CREATE INDEX demo_sessions_type_created_idx ON demo_sessions (demo_account_type, created_at);
