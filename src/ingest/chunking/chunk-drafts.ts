import { PipelineConfig, sha256Hex } from '../../documents/pipeline';
import { PAGES_KEY, pagesBetween } from '../../extraction/extracted-text';
import { chunkContext, chunkMetadata, headingPathAt, textToEmbed } from './chunk-context';
import { documentHeadings } from './plain-headings';
import { PermanentIngestError } from '../ingest-errors';
import { splitForPipeline } from './pipeline-splitter';

/** Chunks one document may make when the caller sets no other bound (MAX_CHUNKS_PER_DOCUMENT). */
export const DEFAULT_MAX_CHUNKS = 10000;

/** A chunk of a document before it has a vector: what is stored, and the text the model embeds. */
export interface ChunkDraft {
  index: number;
  content: string;
  contentSha256: string;
  /** Title and heading path (null when contextual chunks are off). */
  context: string | null;
  /** The document's metadata plus the chunk's heading path. */
  metadata: Record<string, unknown>;
  /** What the model embeds: the context in front of the content. */
  textToEmbed: string;
}

/** Names the pages a chunk spans, unless the document's own metadata has a `pages` key (as with its heading path). */
function withPages(metadata: Record<string, unknown>, pageStarts: readonly number[] | undefined, span: { start: number; end: number }): Record<string, unknown> {
  if (!pageStarts || PAGES_KEY in metadata) return metadata;
  return { ...metadata, [PAGES_KEY]: pagesBetween(pageStarts, span.start, span.end) };
}

/** What of a document decides its chunks. */
export interface DraftSource {
  title: string | null;
  metadata: Record<string, unknown>;
  pipeline: PipelineConfig;
}

/**
 * Splits a document's text as its pipeline says and gives each chunk its heading path,
 * context and metadata. Empty when the text has nothing to index. With `pageStarts` (text
 * extracted from a PDF), each chunk's metadata also names its `pages`. A document that makes
 * more than `maxChunks` chunks fails for good (`too_large`): its cost would grow with
 * each one (embedding, a row and an index entry per chunk) and no retry makes it smaller.
 */
export function draftChunks(doc: DraftSource, text: string, pageStarts?: readonly number[], maxChunks = DEFAULT_MAX_CHUNKS): ChunkDraft[] {
  const pieces = splitForPipeline(text, doc.pipeline);
  if (pieces.length > maxChunks) {
    throw new PermanentIngestError('too_large', `the document makes more than ${maxChunks} chunks (${pieces.length}): split it, or send it with a larger chunk size`);
  }
  const headings = documentHeadings(text);
  return pieces.map((p) => {
    const path = headingPathAt(headings, p.start);
    const context = doc.pipeline.contextual ? chunkContext(doc.title, path) : null;
    return {
      index: p.index,
      content: p.content,
      contentSha256: sha256Hex(p.content),
      context,
      metadata: withPages(chunkMetadata(doc.metadata, path), pageStarts, p),
      textToEmbed: textToEmbed(context, p.content),
    };
  });
}
