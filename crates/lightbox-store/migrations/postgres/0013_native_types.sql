-- Native PostgreSQL types (issue 16): every instant becomes a timestamptz and
-- every JSON document a jsonb, converted in place, one rewrite per table.
-- Instants were BIGINT Unix microseconds; the conversion is exact (whole
-- days, then the microseconds left, added in UTC). JSON columns held text
-- that serde_json wrote.
SET LOCAL TIME ZONE 'UTC';

CREATE FUNCTION pg_temp.instant(micros BIGINT) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT TIMESTAMPTZ 'epoch' + (micros / 86400000000) * INTERVAL '1 day'
                 + (micros % 86400000000) * INTERVAL '1 microsecond' $$;

ALTER TABLE access_tokens
    ALTER COLUMN expires_at TYPE timestamptz USING pg_temp.instant(expires_at),
    ALTER COLUMN issued_at TYPE timestamptz USING pg_temp.instant(issued_at);

ALTER TABLE accounts
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN updated_at TYPE timestamptz USING pg_temp.instant(updated_at);

ALTER TABLE archives
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN expires_at TYPE timestamptz USING pg_temp.instant(expires_at);

ALTER TABLE blob_garbage
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN pinned_until TYPE timestamptz USING pg_temp.instant(pinned_until);

ALTER TABLE change_log
    ALTER COLUMN at TYPE timestamptz USING pg_temp.instant(at);

ALTER TABLE device_sessions
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN expires_at TYPE timestamptz USING pg_temp.instant(expires_at),
    ALTER COLUMN last_used_at TYPE timestamptz USING pg_temp.instant(last_used_at),
    ALTER COLUMN revoked_at TYPE timestamptz USING pg_temp.instant(revoked_at);

ALTER TABLE idempotency_keys
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at);

ALTER TABLE image_credits
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at);

ALTER TABLE image_exif
    ALTER COLUMN image_created_at TYPE timestamptz USING pg_temp.instant(image_created_at);

ALTER TABLE image_keywords
    ALTER COLUMN image_created_at TYPE timestamptz USING pg_temp.instant(image_created_at),
    ALTER COLUMN image_creation_date TYPE timestamptz USING pg_temp.instant(image_creation_date);

ALTER TABLE image_versions
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at);

ALTER TABLE images
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN creation_date TYPE timestamptz USING pg_temp.instant(creation_date),
    ALTER COLUMN updated_at TYPE timestamptz USING pg_temp.instant(updated_at),
    ALTER COLUMN exif TYPE jsonb USING exif::jsonb,
    ALTER COLUMN metadata TYPE jsonb USING metadata::jsonb;

ALTER TABLE jobs
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN heartbeat_at TYPE timestamptz USING pg_temp.instant(heartbeat_at),
    ALTER COLUMN run_after TYPE timestamptz USING pg_temp.instant(run_after),
    ALTER COLUMN updated_at TYPE timestamptz USING pg_temp.instant(updated_at),
    ALTER COLUMN payload TYPE jsonb USING payload::jsonb;

ALTER TABLE memberships
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at);

ALTER TABLE metadata_profiles
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN updated_at TYPE timestamptz USING pg_temp.instant(updated_at),
    ALTER COLUMN fields TYPE jsonb USING fields::jsonb;

ALTER TABLE mfa_challenges
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN expires_at TYPE timestamptz USING pg_temp.instant(expires_at),
    ALTER COLUMN used_at TYPE timestamptz USING pg_temp.instant(used_at),
    ALTER COLUMN device TYPE jsonb USING device::jsonb;

ALTER TABLE nodes
    ALTER COLUMN heartbeat_at TYPE timestamptz USING pg_temp.instant(heartbeat_at),
    ALTER COLUMN started_at TYPE timestamptz USING pg_temp.instant(started_at);

ALTER TABLE operations
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN finished_at TYPE timestamptz USING pg_temp.instant(finished_at),
    ALTER COLUMN updated_at TYPE timestamptz USING pg_temp.instant(updated_at),
    ALTER COLUMN image_public_uuids TYPE jsonb USING image_public_uuids::jsonb,
    ALTER COLUMN result TYPE jsonb USING result::jsonb,
    ALTER COLUMN error TYPE jsonb USING error::jsonb;

ALTER TABLE rate_limits
    ALTER COLUMN blocked_until TYPE timestamptz USING pg_temp.instant(blocked_until),
    ALTER COLUMN tat TYPE timestamptz USING pg_temp.instant(tat),
    ALTER COLUMN updated_at TYPE timestamptz USING pg_temp.instant(updated_at);

ALTER TABLE recovery_codes
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN used_at TYPE timestamptz USING pg_temp.instant(used_at);

ALTER TABLE refresh_tokens
    ALTER COLUMN expires_at TYPE timestamptz USING pg_temp.instant(expires_at),
    ALTER COLUMN issued_at TYPE timestamptz USING pg_temp.instant(issued_at),
    ALTER COLUMN used_at TYPE timestamptz USING pg_temp.instant(used_at);

ALTER TABLE server_keys
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at);

ALTER TABLE service_tokens
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN expires_at TYPE timestamptz USING pg_temp.instant(expires_at),
    ALTER COLUMN last_used_at TYPE timestamptz USING pg_temp.instant(last_used_at),
    ALTER COLUMN revoked_at TYPE timestamptz USING pg_temp.instant(revoked_at),
    ALTER COLUMN scopes TYPE jsonb USING scopes::jsonb,
    ALTER COLUMN allowed_ips TYPE jsonb USING allowed_ips::jsonb;

ALTER TABLE set_images
    ALTER COLUMN activation_time TYPE timestamptz USING pg_temp.instant(activation_time),
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at);

ALTER TABLE set_snapshots
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN state TYPE jsonb USING state::jsonb;

ALTER TABLE sets
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN updated_at TYPE timestamptz USING pg_temp.instant(updated_at);

ALTER TABLE signing_keys
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN retired_at TYPE timestamptz USING pg_temp.instant(retired_at);

ALTER TABLE upload_tickets
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN expires_at TYPE timestamptz USING pg_temp.instant(expires_at);

ALTER TABLE users
    ALTER COLUMN created_at TYPE timestamptz USING pg_temp.instant(created_at),
    ALTER COLUMN updated_at TYPE timestamptz USING pg_temp.instant(updated_at);

-- The database's clock, as an instant.
DROP VIEW database_clock;
CREATE VIEW database_clock AS SELECT clock_timestamp() AS now;
DROP FUNCTION pg_temp.instant(BIGINT);
