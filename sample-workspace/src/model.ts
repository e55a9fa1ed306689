export interface Note {
  id: string;
  title: string;
  body: string;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

export type Priority = 'low' | 'normal' | 'high';

export interface Todo {
  id: string;
  text: string;
  done: boolean;
  priority: Priority;
  /** ISO date (YYYY-MM-DD) or null when there is no deadline. */
  due: string | null;
}

/** Tags are written inline in the body as #word. */
export function extractTags(body: string): string[] {
  const tags = new Set<string>();
  for (const match of body.matchAll(/#([\p{L}\p{N}_-]+)/gu)) tags.add(match[1]!.toLowerCase());
  return [...tags].sort();
}
