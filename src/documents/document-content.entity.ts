import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The current text of a document, stored apart so that status reads and jobs never load it. */
@Entity({ name: 'document_contents' })
export class DocumentContentEntity {
  @PrimaryColumn({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ type: 'text' })
  content!: string;
}
