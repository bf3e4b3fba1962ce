import { renamedFor } from './chunk-tables';
import { ACTIVE_CHUNKS, BUILDING_CHUNKS } from './generation';

describe('renamedFor', () => {
  it.each([
    ['chunks_pkey', 'chunks_next_pkey'],
    ['chunks_document_id_fkey', 'chunks_next_document_id_fkey'],
    ['chunks_embedding_idx', 'chunks_next_embedding_idx'],
    ['chunks_embedding_hnsw_idx', 'chunks_next_embedding_hnsw_idx'],
  ])('names %s of chunks %s on chunks_next, and back', (active, building) => {
    expect(renamedFor(active, ACTIVE_CHUNKS, BUILDING_CHUNKS)).toBe(building);
    expect(renamedFor(building, BUILDING_CHUNKS, ACTIVE_CHUNKS)).toBe(active);
  });

  it("gives a name that does not start with the source table's the target table as a prefix", () => {
    expect(renamedFor('idx_chunk_namespace', ACTIVE_CHUNKS, BUILDING_CHUNKS)).toBe('chunks_next_idx_chunk_namespace');
    expect(renamedFor('idx_chunk_namespace', BUILDING_CHUNKS, ACTIVE_CHUNKS)).toBe('chunks_idx_chunk_namespace');
    // Only "<table>_" is a prefix: a name merely starting with the letters of the table is not one.
    expect(renamedFor('chunksmeta_idx', ACTIVE_CHUNKS, BUILDING_CHUNKS)).toBe('chunks_next_chunksmeta_idx');
  });
});
