/** A one-line plain-text preview of a markdown message (for the sessions sidebar). */
export function plainPreview(markdown: string, limit = 120): string {
  const text = markdown
    .replace(/```[\s\S]*?```/g, " ") // code blocks say little in a preview
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(/^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+\.\s+)/gm, "")
    .replace(/^\s*\|?\s*:?-{3,}.*$/gm, " ") // table separator rows
    .replace(/(\*\*|~~|`)/g, "")
    .replace(/(^|[\s(])__(\S.*?)__(?=[\s).,;:!?]|$)/g, "$1$2") // not the __ inside snake_case__names
    .replace(/(^|\s)[*_](\S[^*_]*\S|\S)[*_](?=\s|$|[.,;:!?])/g, "$1$2")
    .replace(/\s*\|\s*/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > limit ? `${text.slice(0, limit - 1).trimEnd()}…` : text;
}
