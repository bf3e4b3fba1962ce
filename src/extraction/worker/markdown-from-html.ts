import TurndownService from 'turndown';

// Not content: scripts, styles and the document head (its title is no heading of the text).
const DROPPED = new Set(['script', 'style', 'noscript', 'template', 'head', 'iframe', 'object', 'embed', 'svg', 'canvas']);

const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' });
turndown.remove((node) => DROPPED.has(node.nodeName.toLowerCase()));

/** HTML as markdown: `<h1>`–`<h6>` become `#` headings, so chunks get their heading paths. */
export function markdownFromHtml(html: string): string {
  return turndown.turndown(html);
}
