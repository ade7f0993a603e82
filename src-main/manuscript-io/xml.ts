/** Text into XML and HTML (EPUB's XHTML, .docx's parts, Markdown's inline HTML). */

// XML 1.0 refuses C0 controls other than tab and newlines, and U+FFFE/U+FFFF; a lone surrogate cannot be encoded.
// eslint-disable-next-line no-control-regex -- these are exactly the characters XML refuses
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udfff]/gu;

/** The text with the characters XML cannot hold replaced by U+FFFD (for writers that escape but do not check). */
export function xmlCharacters(text: string): string {
  return text.replace(NOT_XML, '\ufffd');
}

/** A text node's or an attribute's content: escaped, with the characters XML cannot hold replaced by U+FFFD. */
export function escapeXml(text: string): string {
  return xmlCharacters(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
