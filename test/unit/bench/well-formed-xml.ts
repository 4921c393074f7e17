/**
 * A small XML well-formedness check for the chart test (no XML parser among the dependencies):
 * one root element, properly nested and closed tags, quoted attributes without duplicates or '<',
 * and '&' only as a predefined or numeric entity. Comments and an XML declaration are allowed.
 * Returns the element names in document order.
 */
const NAME = '[A-Za-z_][\\w:.-]*';
const TAG = new RegExp(`<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"]*"|'[^']*'))*)\\s*(/?)>`, 'y');
const ATTR = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'g');
const AMP = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

function checkText(s: string, where: number): void {
  if (AMP.test(s)) throw new Error(`bad '&' near offset ${where}`);
}

export function wellFormedXml(text: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const skipMisc = (): boolean => {
    for (const [open, close] of [
      ['<?', '?>'],
      ['<!--', '-->'],
    ] as const) {
      if (text.startsWith(open, i)) {
        const end = text.indexOf(close, i + open.length);
        if (end < 0) throw new Error(`unterminated ${open} at offset ${i}`);
        i = end + close.length;
        return true;
      }
    }
    return false;
  };
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt < 0 ? text.length : lt);
    if (stack.length) checkText(chunk, i);
    else if (chunk.trim()) throw new Error(`text outside the root element at offset ${i}`);
    if (lt < 0) break;
    i = lt;
    if (skipMisc()) continue;
    TAG.lastIndex = i;
    const m = TAG.exec(text);
    if (!m) throw new Error(`malformed tag at offset ${i}: ${text.slice(i, i + 40)}`);
    const [whole, closing, name, attrs, selfClosing] = m;
    i += whole.length;
    if (closing) {
      if (attrs || selfClosing) throw new Error(`closing tag </${name}> with attributes`);
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open ?? 'nothing'}>`);
      continue;
    }
    if (!stack.length && ++roots > 1) throw new Error(`a second root element <${name}>`);
    const seen = new Set<string>();
    for (const a of (attrs ?? '').matchAll(ATTR)) {
      if (seen.has(a[1]!)) throw new Error(`<${name}>: attribute ${a[1]} twice`);
      seen.add(a[1]!);
      const value = a[2] ?? a[3] ?? '';
      if (value.includes('<')) throw new Error(`<${name}>: '<' in attribute ${a[1]}`);
      checkText(value, i);
    }
    names.push(name!);
    if (!selfClosing) stack.push(name!);
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1]}>`);
  if (!roots) throw new Error('no root element');
  return names;
}
