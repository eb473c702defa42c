-- Records are written at the rate of decisions and read one at a time, by Reservation, as the
-- JSON they were written as. Kept as text, PostgreSQL stores them without parsing each into
-- jsonb, which cost the server's CPU on every decision and the service nothing it used.
ALTER TABLE assignment_router_decisions ALTER COLUMN record TYPE text USING record::text;
