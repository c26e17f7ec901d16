-- The per-workspace secret that signs webhook deliveries (HMAC-SHA256); NULL until made.
ALTER TABLE workspaces ADD COLUMN webhook_secret TEXT;
