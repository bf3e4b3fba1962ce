import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { EmbeddingSpec } from '../../embedding/embedding-spec';
import { Generation, GenerationStatus } from './generation';

interface GenerationRow {
  id: number;
  status: GenerationStatus;
  model: string;
  dimension: number;
  spec: EmbeddingSpec | null;
  previous_id: number | null;
  created_at: Date;
  activated_at: Date | null;
  finished_at: Date | null;
}

const toGeneration = (r: GenerationRow): Generation => ({
  id: r.id,
  status: r.status,
  modelId: r.model,
  dimension: r.dimension,
  spec: r.spec,
  previousId: r.previous_id,
  createdAt: r.created_at,
  activatedAt: r.activated_at,
  finishedAt: r.finished_at,
});

type Db = EntityManager | DataSource;

/**
 * Rows of `embedding_generations`: which model's vectors `chunks` holds (active), the
 * one a re-embed builds in `chunks_next` (building), and those set aside (retired,
 * cancelled). Status changes run inside `GenerationLock.locked` (see GenerationSwitch).
 */
@Injectable()
export class GenerationRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Runs `work` in one read-only snapshot (REPEATABLE READ): its reads agree with each other. */
  snapshot<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction('REPEATABLE READ', async (em) => {
      await em.query('SET TRANSACTION READ ONLY');
      return work(em);
    });
  }

  async current(em: Db = this.db): Promise<{ active: Generation | null; building: Generation | null }> {
    const rows: GenerationRow[] = await em.query(`SELECT * FROM embedding_generations WHERE status IN ('active', 'building')`);
    const find = (status: GenerationStatus): Generation | null => {
      const row = rows.find((r) => r.status === status);
      return row ? toGeneration(row) : null;
    };
    return { active: find('active'), building: find('building') };
  }

  /** The newest re-embed (a generation that replaces another), whatever its state. */
  async latestReindex(em: Db = this.db): Promise<Generation | null> {
    const rows: GenerationRow[] = await em.query(
      `SELECT * FROM embedding_generations WHERE previous_id IS NOT NULL ORDER BY id DESC LIMIT 1`,
    );
    return rows.length > 0 ? toGeneration(rows[0]) : null;
  }

  async findById(id: number): Promise<Generation | null> {
    const rows: GenerationRow[] = await this.db.query(`SELECT * FROM embedding_generations WHERE id = $1`, [id]);
    return rows.length > 0 ? toGeneration(rows[0]) : null;
  }

  /**
   * The newest generation of this model that an operator or a later re-embed set aside:
   * retired (it was active, then replaced), or cancelled since `sinceId` was made active.
   */
  async setAside(em: EntityManager, model: { modelId: string; dimension: number }, sinceId: number): Promise<Generation | null> {
    const rows: GenerationRow[] = await em.query(
      `SELECT * FROM embedding_generations
        WHERE model = $1 AND dimension = $2 AND (status = 'retired' OR (status = 'cancelled' AND id > $3))
        ORDER BY id DESC LIMIT 1`,
      [model.modelId, model.dimension, sinceId],
    );
    return rows.length > 0 ? toGeneration(rows[0]) : null;
  }

  async createActive(em: EntityManager, spec: EmbeddingSpec): Promise<Generation> {
    return this.insert(em, 'active', spec, null);
  }

  async createBuilding(em: EntityManager, spec: EmbeddingSpec, previousId: number): Promise<Generation> {
    return this.insert(em, 'building', spec, previousId);
  }

  async setSpec(em: EntityManager, id: number, spec: EmbeddingSpec): Promise<void> {
    await em.query(`UPDATE embedding_generations SET spec = $2 WHERE id = $1`, [id, JSON.stringify(spec)]);
  }

  /** The building generation `buildingId` becomes active and the active one `activeId` retired. */
  async promote(em: EntityManager, activeId: number, buildingId: number): Promise<void> {
    await em.query(`UPDATE embedding_generations SET status = 'retired', finished_at = now() WHERE id = $1`, [activeId]);
    await em.query(`UPDATE embedding_generations SET status = 'active', activated_at = now(), finished_at = now() WHERE id = $1`, [
      buildingId,
    ]);
  }

  async markCancelled(em: EntityManager, id: number): Promise<void> {
    await em.query(`UPDATE embedding_generations SET status = 'cancelled', finished_at = now() WHERE id = $1 AND status = 'building'`, [id]);
  }

  private async insert(em: EntityManager, status: 'active' | 'building', spec: EmbeddingSpec, previousId: number | null): Promise<Generation> {
    const rows: GenerationRow[] = await em.query(
      `INSERT INTO embedding_generations (status, model, dimension, spec, previous_id, activated_at)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $1 = 'active' THEN now() END) RETURNING *`,
      [status, spec.modelId, spec.dimension, JSON.stringify(spec), previousId],
    );
    return toGeneration(rows[0]);
  }
}
