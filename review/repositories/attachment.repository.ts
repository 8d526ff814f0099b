import type { Pool } from 'pg';
import type { Queryable } from './db.ts';

/** What a case's attachment list shows (no contents). */
export interface AttachmentSummary {
  attachmentId: string;
  caseId: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  uploadedBy: string;
  createdAt: string;
}

export interface AttachmentFile extends AttachmentSummary {
  content: Buffer;
}

interface Row {
  attachment_id: string;
  case_id: string;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  user_name: string;
  created_at: Date;
}

const toSummary = (r: Row): AttachmentSummary => ({
  attachmentId: r.attachment_id,
  caseId: r.case_id,
  fileName: r.file_name,
  contentType: r.content_type,
  sizeBytes: r.size_bytes,
  sha256: r.sha256,
  uploadedBy: r.user_name,
  createdAt: r.created_at.toISOString(),
});

const COLUMNS = 'a.attachment_id, a.case_id, a.file_name, a.content_type, a.size_bytes, a.sha256, u.name AS user_name, a.created_at';

/** Case attachments (table case_attachments): contents in bytea, inserted only. */
export class AttachmentRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async insert(a: { caseId: string; userId: string; fileName: string; contentType: string; sha256: string; content: Buffer }, db: Queryable = this.#pool): Promise<string> {
    const { rows } = await db.query<{ attachment_id: string }>(
      `INSERT INTO case_attachments (case_id, user_id, file_name, content_type, size_bytes, sha256, content)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING attachment_id`,
      [a.caseId, a.userId, a.fileName, a.contentType, a.content.length, a.sha256, a.content],
    );
    return rows[0]!.attachment_id;
  }

  async list(caseId: string, db: Queryable = this.#pool): Promise<AttachmentSummary[]> {
    const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM case_attachments a JOIN review_users u USING (user_id) WHERE a.case_id = $1 ORDER BY a.attachment_id`, [caseId]);
    return rows.map(toSummary);
  }

  async get(caseId: string, attachmentId: string): Promise<AttachmentFile | null> {
    const { rows } = await this.#pool.query<Row & { content: Buffer }>(
      `SELECT ${COLUMNS}, a.content FROM case_attachments a JOIN review_users u USING (user_id) WHERE a.case_id = $1 AND a.attachment_id = $2`,
      [caseId, attachmentId],
    );
    const r = rows[0];
    return r ? { ...toSummary(r), content: r.content } : null;
  }
}
