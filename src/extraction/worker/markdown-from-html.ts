import TurndownService from 'turndown';

// Not content: scripts, styles and the document head (its title is no heading of the text). Turndown parses
// the input as a body's content, so the head's elements arrive one by one, not inside a `head`.
const DROPPED = new Set(['script', 'style', 'noscript', 'template', 'head', 'title', 'meta', 'link', 'iframe', 'object', 'embed', 'svg', 'canvas']);

const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' });
turndown.remove((node) => DROPPED.has(node.nodeName.toLowerCase()));

/** HTML as markdown: `<h1>`–`<h6>` become `#` headings, so chunks get their heading paths. */
export function markdownFromHtml(html: string): string {
  return turndown.turndown(html);
}
