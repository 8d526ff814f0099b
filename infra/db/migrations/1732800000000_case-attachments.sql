-- Up Migration

-- Files investigators attach to a case (scanned records, letters, screenshots). Contents may be
-- PHI: they stay in this database (bytea), are served only to the roles that may read the case,
-- and every upload and download is audited. Append-only like the notes.
CREATE TABLE case_attachments (
  attachment_id  bigserial PRIMARY KEY,
  case_id        bigint NOT NULL REFERENCES cases (case_id),
  user_id        bigint NOT NULL REFERENCES review_users (user_id),
  file_name      text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
  content_type   text NOT NULL,
  size_bytes     integer NOT NULL CHECK (size_bytes > 0),
  sha256         text NOT NULL,
  content        bytea NOT NULL CHECK (octet_length(content) = size_bytes),
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_attachments_case ON case_attachments (case_id);

-- Down Migration
DROP TABLE case_attachments;
