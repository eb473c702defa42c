-- Decision records (§10.2): one row per Reservation the fleet decided, written off the answer
-- path in batches. The primary key keeps a Reservation's first decision: a replica deciding it
-- again (TaskRouter retried the callback, perhaps at another replica) does not replace it.
CREATE TABLE assignment_router_decisions (
    reservation_sid text PRIMARY KEY,
    task_sid        text NOT NULL,
    rule            text NOT NULL,
    decided_at      timestamptz NOT NULL,
    -- The record as it is served, without `update` and `outcomes`: the update's attempts and
    -- end are read from `assignment_router_updates`, where the deliverers keep them, and the
    -- outcomes change after the record is written.
    record          jsonb NOT NULL,
    -- TaskRouter's events for the Reservation, each outcome once, in the order they came:
    -- `[{"outcome", "at", "after_ms"}]`. Appended by one conditional UPDATE, so the same event
    -- delivered twice, even to two replicas at once, is counted once.
    outcomes        jsonb NOT NULL DEFAULT '[]'
);

-- What the retention sweep deletes by: records are only ever read by Reservation, or by age.
CREATE INDEX assignment_router_decisions_decided
    ON assignment_router_decisions (decided_at);

-- A Task's events (canceled, completed, ...) end the pending updates of all its Reservations:
-- a small partial index, since pending rows are few.
CREATE INDEX assignment_router_updates_pending_task
    ON assignment_router_updates (task_sid) WHERE state = 'pending';
