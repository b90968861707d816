/**
 * Quotes a string for a POSIX shell: the result is one word, whatever the input holds.
 * @example shellQuote("it's") === "'it'\\''s'"
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
