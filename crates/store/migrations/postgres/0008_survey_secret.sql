-- The per-workspace secret that signs survey links (HMAC-SHA256); NULL until the first link.
ALTER TABLE workspaces ADD COLUMN survey_secret TEXT;
