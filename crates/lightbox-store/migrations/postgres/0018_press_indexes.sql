-- Press websites: ended sign-ins are found by their expiry (housekeeping),
-- and a member's ZIPs of the last hour by member and instant.
CREATE INDEX press_sessions_expiry ON press_sessions(expires_at);
CREATE INDEX website_downloads_member ON website_downloads(member_id, created_at);
