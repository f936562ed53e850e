-- Native PostgreSQL types (issue 16). SQLite keeps instants as INTEGER Unix
-- microseconds and JSON as TEXT (its native forms); only the clock view's
-- column is renamed to match PostgreSQL's.
DROP VIEW database_clock;
CREATE VIEW database_clock AS
    SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER) AS now;
