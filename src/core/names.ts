// tfjs-layers saves a string loss as toSnakeCase(name) and loads it as toCamelCase of that; these
// reproduce its two functions (they are not exported) so the registry can predict what a name
// becomes after save/load.

/** tfjs-layers' `toSnakeCase`. */
export function toSnakeCase(name: string): string {
  const intermediate = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2');
  const insecure = intermediate.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return insecure[0] !== '_' ? insecure : 'private' + insecure;
}

/** tfjs-layers' `toCamelCase`. */
export function toCamelCase(identifier: string): string {
  if (identifier.length <= 1 || identifier.indexOf('_') === -1) return identifier;
  return identifier.replace(/[_]+(\w|$)/g, (_m, p1: string) => p1.toUpperCase());
}

/** What `name` comes back as after `model.save` → `tf.loadLayersModel`. */
export function afterSaveLoad(name: string): string {
  return toCamelCase(toSnakeCase(name));
}

function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** Up to `max` names from `candidates` that look like `name` (typos, case, substrings). */
export function closeMatches(name: string, candidates: string[], max = 5): string[] {
  const target = name.toLowerCase();
  return candidates
      .map((c) => {
        const lower = c.toLowerCase();
        const contains = lower.includes(target) || target.includes(lower);
        return {c, d: contains ? 0 : editDistance(target, lower)};
      })
      .filter(({d}) => d <= Math.max(3, Math.floor(target.length / 3)))
      .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
      .slice(0, max)
      .map(({c}) => c);
}
