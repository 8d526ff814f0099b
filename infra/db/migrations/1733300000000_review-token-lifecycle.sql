-- Up Migration

-- API tokens get an id (to list and revoke them), an expiry and a revocation time; users get a
-- `service` flag (token-only accounts an admin may mint tokens for). `review_users.disabled`
-- exists since 1732600000000_review.sql and is now set by the admin routes.
ALTER TABLE review_users ADD COLUMN service boolean NOT NULL DEFAULT false;

ALTER TABLE review_api_tokens
  ADD COLUMN token_id   bigserial,
  ADD COLUMN expires_at timestamptz,
  ADD COLUMN revoked_at timestamptz;
-- Tokens minted before expiry existed would otherwise live forever: they get the default 30 days.
UPDATE review_api_tokens SET expires_at = now() + interval '30 days';
ALTER TABLE review_api_tokens
  ALTER COLUMN expires_at SET NOT NULL,
  ADD CONSTRAINT review_api_tokens_token_id_key UNIQUE (token_id);
CREATE INDEX review_api_tokens_user ON review_api_tokens (user_id);

-- Down Migration
DROP INDEX review_api_tokens_user;
ALTER TABLE review_api_tokens DROP COLUMN revoked_at, DROP COLUMN expires_at, DROP COLUMN token_id;
ALTER TABLE review_users DROP COLUMN service;
