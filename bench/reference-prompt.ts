// What the bare reference server reads of a chat: the user messages' text, cut at whitespace. Shared with the
// benchmark, which times the same work on the same prompts to set it beside the mock's tokenization.

export interface ReferenceMessage {
  role?: unknown;
  content?: unknown;
}

/** A word with the whitespace before it: the reference's stand-in for a token. */
export const WORD = /\s*\S+/g;

export function referenceMessageText(m: ReferenceMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (!Array.isArray(m.content)) return '';
  const parts: string[] = [];
  for (const p of m.content as Array<{ type?: unknown; text?: unknown }>) {
    if (p && p.type === 'text' && typeof p.text === 'string') parts.push(p.text);
  }
  return parts.join('\n');
}

/** The reference's prompt tokens: every user message's text, joined by newlines, cut at whitespace. */
export function referencePromptTokens(messages: readonly ReferenceMessage[]): string[] {
  const echo = messages
    .filter((m) => m && m.role === 'user')
    .map(referenceMessageText)
    .join('\n');
  return echo.match(WORD) ?? [];
}
