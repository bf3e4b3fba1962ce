/** Where a document uploaded as a file came from, as its status shows it. */
export interface DocumentSource {
  filename: string;
  /** The type detected from the content and the name, not the client's header. */
  mimeType: string;
  bytes: number;
  /** SHA-256 of the original bytes (hex). */
  sha256: string;
  /** Who uploaded it, as the caller said. */
  uploadedBy?: string;
}
