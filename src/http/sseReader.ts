// The reading side of Server-Sent Events, for the typed client: a body becomes the `data` of each event, in order.
// It follows the SSE parsing rules (any line ending, `:` comments, other fields ignored, multi-line data joined
// with "\n"), so it reads other servers' streams too, not only the `data: <json>\n\n` frames this server writes.

const LINE_END = /\r\n|\r|\n/;

/** Yields each event's data; stops reading (and releases the connection) when the caller stops iterating. */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data: string[] = [];
  let ended = false;
  try {
    while (!ended) {
      const next = await reader.read();
      if (next.done) ended = true;
      else buffer += next.value;
      for (;;) {
        const m = LINE_END.exec(buffer);
        if (!m) break;
        // A lone "\r" at the end may be the first half of "\r\n" still on its way.
        if (m[0] === '\r' && m.index === buffer.length - 1 && !ended) break;
        const line = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        if (line === '') {
          if (data.length > 0) yield data.join('\n');
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        if (field !== 'data') continue;
        const value = colon < 0 ? '' : line.slice(colon + 1);
        data.push(value.startsWith(' ') ? value.slice(1) : value);
      }
    }
    // An event without its closing blank line is incomplete and, as the SSE rules say, dropped.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
