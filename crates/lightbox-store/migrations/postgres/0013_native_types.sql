-- Native PostgreSQL types (issue 16): every instant becomes a timestamptz and
-- every JSON document a jsonb, converted in place, one rewrite per table.
-- Instants were BIGINT Unix microseconds. The conversion is exact and does
-- not depend on the session's time zone: whole days, then the microseconds
-- left, added to the epoch as a timestamp, read as UTC. An instant before
-- the earliest PostgreSQL stores (4713-11-24 BC, -210866803200000000 µs; the
-- API once took a signed year such as -9999-01-01) becomes that earliest one,
-- which is what the server now stores for it (not GREATEST, which would
-- turn NULL into it). JSON columns held text that serde_json wrote.

ALTER TABLE access_tokens
    ALTER COLUMN expires_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN issued_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN issued_at < -210866803200000000 THEN -210866803200000000 ELSE issued_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN issued_at < -210866803200000000 THEN -210866803200000000 ELSE issued_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE accounts
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN updated_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE archives
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE blob_garbage
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN pinned_until TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN pinned_until < -210866803200000000 THEN -210866803200000000 ELSE pinned_until END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN pinned_until < -210866803200000000 THEN -210866803200000000 ELSE pinned_until END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE change_log
    ALTER COLUMN at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN at < -210866803200000000 THEN -210866803200000000 ELSE at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN at < -210866803200000000 THEN -210866803200000000 ELSE at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE device_sessions
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN last_used_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN last_used_at < -210866803200000000 THEN -210866803200000000 ELSE last_used_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN last_used_at < -210866803200000000 THEN -210866803200000000 ELSE last_used_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN revoked_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN revoked_at < -210866803200000000 THEN -210866803200000000 ELSE revoked_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN revoked_at < -210866803200000000 THEN -210866803200000000 ELSE revoked_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE idempotency_keys
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE image_credits
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE image_exif
    ALTER COLUMN image_created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN image_created_at < -210866803200000000 THEN -210866803200000000 ELSE image_created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN image_created_at < -210866803200000000 THEN -210866803200000000 ELSE image_created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE image_keywords
    ALTER COLUMN image_created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN image_created_at < -210866803200000000 THEN -210866803200000000 ELSE image_created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN image_created_at < -210866803200000000 THEN -210866803200000000 ELSE image_created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN image_creation_date TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN image_creation_date < -210866803200000000 THEN -210866803200000000 ELSE image_creation_date END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN image_creation_date < -210866803200000000 THEN -210866803200000000 ELSE image_creation_date END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE image_versions
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE images
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN creation_date TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN creation_date < -210866803200000000 THEN -210866803200000000 ELSE creation_date END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN creation_date < -210866803200000000 THEN -210866803200000000 ELSE creation_date END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN updated_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN exif TYPE jsonb USING exif::jsonb,
    ALTER COLUMN metadata TYPE jsonb USING metadata::jsonb;

ALTER TABLE jobs
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN heartbeat_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN heartbeat_at < -210866803200000000 THEN -210866803200000000 ELSE heartbeat_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN heartbeat_at < -210866803200000000 THEN -210866803200000000 ELSE heartbeat_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN run_after TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN run_after < -210866803200000000 THEN -210866803200000000 ELSE run_after END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN run_after < -210866803200000000 THEN -210866803200000000 ELSE run_after END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN updated_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN payload TYPE jsonb USING payload::jsonb;

ALTER TABLE memberships
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE metadata_profiles
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN updated_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN fields TYPE jsonb USING fields::jsonb;

ALTER TABLE mfa_challenges
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN used_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN used_at < -210866803200000000 THEN -210866803200000000 ELSE used_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN used_at < -210866803200000000 THEN -210866803200000000 ELSE used_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN device TYPE jsonb USING device::jsonb;

ALTER TABLE nodes
    ALTER COLUMN heartbeat_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN heartbeat_at < -210866803200000000 THEN -210866803200000000 ELSE heartbeat_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN heartbeat_at < -210866803200000000 THEN -210866803200000000 ELSE heartbeat_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN started_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN started_at < -210866803200000000 THEN -210866803200000000 ELSE started_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN started_at < -210866803200000000 THEN -210866803200000000 ELSE started_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE operations
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN finished_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN finished_at < -210866803200000000 THEN -210866803200000000 ELSE finished_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN finished_at < -210866803200000000 THEN -210866803200000000 ELSE finished_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN updated_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN image_public_uuids TYPE jsonb USING image_public_uuids::jsonb,
    ALTER COLUMN result TYPE jsonb USING result::jsonb,
    ALTER COLUMN error TYPE jsonb USING error::jsonb;

ALTER TABLE rate_limits
    ALTER COLUMN blocked_until TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN blocked_until < -210866803200000000 THEN -210866803200000000 ELSE blocked_until END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN blocked_until < -210866803200000000 THEN -210866803200000000 ELSE blocked_until END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN tat TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN tat < -210866803200000000 THEN -210866803200000000 ELSE tat END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN tat < -210866803200000000 THEN -210866803200000000 ELSE tat END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN updated_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE recovery_codes
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN used_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN used_at < -210866803200000000 THEN -210866803200000000 ELSE used_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN used_at < -210866803200000000 THEN -210866803200000000 ELSE used_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE refresh_tokens
    ALTER COLUMN expires_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN issued_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN issued_at < -210866803200000000 THEN -210866803200000000 ELSE issued_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN issued_at < -210866803200000000 THEN -210866803200000000 ELSE issued_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN used_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN used_at < -210866803200000000 THEN -210866803200000000 ELSE used_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN used_at < -210866803200000000 THEN -210866803200000000 ELSE used_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE server_keys
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE service_tokens
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN last_used_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN last_used_at < -210866803200000000 THEN -210866803200000000 ELSE last_used_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN last_used_at < -210866803200000000 THEN -210866803200000000 ELSE last_used_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN revoked_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN revoked_at < -210866803200000000 THEN -210866803200000000 ELSE revoked_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN revoked_at < -210866803200000000 THEN -210866803200000000 ELSE revoked_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN scopes TYPE jsonb USING scopes::jsonb,
    ALTER COLUMN allowed_ips TYPE jsonb USING allowed_ips::jsonb;

ALTER TABLE set_images
    ALTER COLUMN activation_time TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN activation_time < -210866803200000000 THEN -210866803200000000 ELSE activation_time END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN activation_time < -210866803200000000 THEN -210866803200000000 ELSE activation_time END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE set_snapshots
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN state TYPE jsonb USING state::jsonb;

ALTER TABLE sets
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN updated_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE signing_keys
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN retired_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN retired_at < -210866803200000000 THEN -210866803200000000 ELSE retired_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN retired_at < -210866803200000000 THEN -210866803200000000 ELSE retired_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE upload_tickets
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN expires_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN expires_at < -210866803200000000 THEN -210866803200000000 ELSE expires_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

ALTER TABLE users
    ALTER COLUMN created_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN created_at < -210866803200000000 THEN -210866803200000000 ELSE created_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC',
    ALTER COLUMN updated_at TYPE timestamptz USING (TIMESTAMP 'epoch'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) / 86400000000) * INTERVAL '1 day'
        + ((CASE WHEN updated_at < -210866803200000000 THEN -210866803200000000 ELSE updated_at END) % 86400000000) * INTERVAL '1 microsecond') AT TIME ZONE 'UTC';

-- The database's clock, as an instant.
DROP VIEW database_clock;
CREATE VIEW database_clock AS SELECT clock_timestamp() AS now;
