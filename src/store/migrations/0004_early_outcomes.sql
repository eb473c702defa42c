-- Outcomes that came before their decision's record: the records' writer sends a record a
-- moment after its answer, and TaskRouter's event for an inline answer can come sooner (to
-- any replica). Kept here until the record comes, then moved into its `outcomes` and
-- counted; one never matched is deleted after a while. The primary key keeps each outcome
-- of a Reservation once, however often the event comes before the record.
CREATE TABLE assignment_router_early_outcomes (
    reservation_sid text NOT NULL,
    outcome         text NOT NULL,
    -- When the event came, as the record shows it (RFC 3339, milliseconds), and as a time
    -- to count `after_ms` and age from.
    at              text NOT NULL,
    arrived_at      timestamptz NOT NULL,
    PRIMARY KEY (reservation_sid, outcome)
);

CREATE INDEX assignment_router_early_outcomes_arrived
    ON assignment_router_early_outcomes (arrived_at);
