/** A file to post as multipart/form-data. */
export interface UploadFile {
  name: string;
  bytes: Buffer | string;
  /** The part's Content-Type, as a client would declare it. */
  type?: string;
}

/** Posts `file` (field `file`) and `fields` to POST /v1/documents as multipart/form-data. */
export async function uploadDocument(
  baseUrl: string,
  file: UploadFile,
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([file.bytes], { type: file.type ?? 'application/octet-stream' }), file.name);
  const res = await fetch(`${baseUrl}/v1/documents`, { method: 'POST', body: form, headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
