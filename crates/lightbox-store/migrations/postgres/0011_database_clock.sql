-- The database's clock as a view, so a statement written once for both
-- engines can read it: `(SELECT now_us FROM database_clock)` is Unix
-- microseconds now, by this database's clock (the other engine's 0011 says
-- the same its own way). Node liveness and job leases are told by this one
-- clock, not by each node's. `clock_timestamp()`, not `now()`: the time of
-- the read, not of the transaction's start.
CREATE VIEW database_clock AS
    SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT) AS now_us;
