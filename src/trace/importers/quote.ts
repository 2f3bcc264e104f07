/**
 * An input line as it may appear in a one-line error: a JSON string literal in which everything but
 * printable ASCII is escaped (control bytes, bytes that were not UTF-8, which read as U+FFFD, and any
 * other non-ASCII character become \uXXXX), so that a binary line can neither garble the terminal nor
 * break the line; at most about `max` characters of escaped text, then how much was left out.
 */
export function quoteLine(text: string, max = 120): string {
  let body = '';
  let i = 0;
  for (; i < text.length && body.length < max; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) body += `\\${text[i]}`;
    else if (c >= 0x20 && c <= 0x7e) body += text[i];
    else body += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return i < text.length ? `"${body}"... (${text.length - i} more characters)` : `"${body}"`;
}
