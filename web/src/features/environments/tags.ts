// Tags as people type them: `env=prod, region=eu` (commas or new lines between pairs).
export type Tags = Record<string, string>;

export function formatTags(tags: Tags): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

/** Parses `k=v` pairs; the first malformed or repeated one is reported and nothing is returned. */
export function parseTags(text: string): { tags: Tags; error: null } | { tags: null; error: string } {
  const tags: Tags = {};
  for (const raw of text.split(/[,\n]/)) {
    const pair = raw.trim();
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) return { tags: null, error: `"${pair}" is not key=value.` };
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (key in tags) return { tags: null, error: `The tag ${key} is given twice.` };
    tags[key] = value;
  }
  return { tags, error: null };
}
