/** A Markdown table (pipes in cells escaped); `align` per column: left or right. */
export function mdTable(header: string[], body: string[][], align: ('l' | 'r')[]): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`,
    ...body.map((row) => `| ${row.map(esc).join(' | ')} |`),
  ].join('\n');
}
