-- The database's clock as a view, so a statement written once for both
-- engines can read it: `(SELECT now_us FROM database_clock)` is Unix
-- microseconds now, by this database's clock (the other engine's 0011 says
-- the same its own way). Node liveness and job leases are told by this one
-- clock, not by each node's.
CREATE VIEW database_clock AS
    SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER) AS now_us;
