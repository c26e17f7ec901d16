-- Installation administrators may create workspaces from the web pages. The first user (the
-- one `/setup` made) of an existing installation becomes one.
ALTER TABLE users ADD COLUMN installation_admin INTEGER NOT NULL DEFAULT 0;
UPDATE users SET installation_admin = 1 WHERE user_id = (SELECT MIN(user_id) FROM users);
