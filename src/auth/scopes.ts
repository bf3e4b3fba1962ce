/** What a key may do. `admin` covers keys, re-embeds, every namespace's dead letters, and every other scope. */
export const SCOPES = ['documents:write', 'documents:read', 'search', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Namespaces value that grants every namespace. */
export const ALL_NAMESPACES = '*';
