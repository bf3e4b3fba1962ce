import { DOCX, PDF, detectFileType } from './file-types';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const ZIP = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]);

describe('detectFileType', () => {
  it('takes PDF from its magic bytes whatever the name and header say', () => {
    expect(detectFileType({ head: bytes('%PDF-1.7\n...'), filename: 'report.txt', declared: 'text/plain' })).toEqual({ type: PDF });
  });

  it('takes a ZIP as DOCX only when the name or header says DOCX', () => {
    expect(detectFileType({ head: ZIP, filename: 'Spec.DOCX', declared: 'application/octet-stream' })).toEqual({ type: DOCX });
    expect(detectFileType({ head: ZIP, filename: 'upload', declared: DOCX })).toEqual({ type: DOCX });
    expect(detectFileType({ head: ZIP, filename: 'photos.zip', declared: 'application/zip' })).toEqual({ unsupported: expect.stringContaining('ZIP') });
  });

  it('refuses a name that claims PDF for content that is not one', () => {
    expect(detectFileType({ head: bytes('hello'), filename: 'fake.pdf', declared: 'application/pdf' })).toEqual({
      unsupported: expect.stringContaining('%PDF-'),
    });
  });

  it('refuses images and other binary content, naming what it is', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]);
    expect(detectFileType({ head: png, filename: 'scan.md', declared: 'text/markdown' })).toEqual({ unsupported: 'a PNG image' });
    expect(detectFileType({ head: new Uint8Array([1, 0, 2, 3]), filename: 'data.bin', declared: '' })).toEqual({ unsupported: expect.stringContaining('binary') });
  });

  it('tells the text formats apart by name, then header, then content', () => {
    expect(detectFileType({ head: bytes('# Title'), filename: 'notes.md', declared: 'text/plain' })).toEqual({ type: 'text/markdown' });
    expect(detectFileType({ head: bytes('<p>x</p>'), filename: 'page', declared: 'text/html; charset=utf-8' })).toEqual({ type: 'text/html' });
    expect(detectFileType({ head: bytes('  <!DOCTYPE html><html>'), filename: 'page', declared: 'application/octet-stream' })).toEqual({ type: 'text/html' });
    expect(detectFileType({ head: bytes('{"a":1}'), filename: 'blob', declared: '' })).toEqual({ type: 'application/json' });
    expect(detectFileType({ head: bytes('just words'), filename: 'README', declared: '' })).toEqual({ type: 'text/plain' });
  });

  it('accepts UTF-8 text whose sniffed start ends inside a character', () => {
    const cut = bytes('naïve café ☕').subarray(0, 14); // cuts the 3-byte ☕ after its first byte
    expect(detectFileType({ head: cut, filename: 'a.txt', declared: '' })).toEqual({ type: 'text/plain' });
  });
});
