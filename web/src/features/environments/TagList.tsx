import type { Tags } from "./tags";

/** Tags as small `key=value` chips. */
export function TagList({ tags }: { tags: Tags }) {
  const entries = Object.entries(tags);
  if (entries.length === 0) return null;
  return (
    <ul className="tags" aria-label="Tags">
      {entries.map(([k, v]) => (
        <li key={k} className="tag">
          {k}={v}
        </li>
      ))}
    </ul>
  );
}
