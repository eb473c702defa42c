-- An update a replica sent from memory while the store was away, written once the store
-- answers again: a duplicate callback for it (TaskRouter's retry, the fallback URL) then
-- finds the Reservation claimed at any replica, and sends nothing. Ended from the start, so
-- never taken over; how it ended is in its replica's log and metrics.
--
-- NOT VALID: the rows already there passed the narrower check, so the table need not be
-- read again under this migration's lock (claims meanwhile would go from memory).
ALTER TABLE assignment_router_updates
    DROP CONSTRAINT assignment_router_updates_state_check,
    ADD CONSTRAINT assignment_router_updates_state_check
        CHECK (state IN ('pending', 'landed', 'moved_on', 'final_error', 'expired',
                         'sent_from_memory')) NOT VALID;
