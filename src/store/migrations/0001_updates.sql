-- The outbox: one row per REST decision, claimed before its `{}` is answered. The primary key
-- is what makes a Reservation's update fleet-wide once: a second replica's claim finds it.
CREATE TABLE assignment_router_updates (
    reservation_sid text PRIMARY KEY,
    workspace_sid   text NOT NULL,
    worker_sid      text NOT NULL,
    task_sid        text NOT NULL,
    rule            text NOT NULL,
    instruction     text NOT NULL,
    -- The update form, urlencoded, exactly as it is POSTed.
    body            text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'landed', 'moved_on', 'final_error', 'expired')),
    attempts        integer NOT NULL DEFAULT 0,
    takeovers       integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    -- Absolute, so an update finished by another replica keeps the first one's deadline.
    deadline_at     timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    -- The replica sending it, until `leased_until`; past that any replica may take it over.
    holder          text,
    leased_until    timestamptz NOT NULL,
    last_error      text,
    ended_at        timestamptz
);

-- What the deliverers poll for, and what the retention sweep deletes: both small partial
-- indexes, since pending rows are few and ended ones are only ever read by age.
CREATE INDEX assignment_router_updates_due
    ON assignment_router_updates (next_attempt_at) WHERE state = 'pending';
CREATE INDEX assignment_router_updates_ended
    ON assignment_router_updates (ended_at) WHERE state <> 'pending';
