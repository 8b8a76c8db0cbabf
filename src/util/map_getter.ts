/**
 * A map as the lookups forward passes and operators take, `(name) => value`, throwing `missing(name)`
 * for a name the map does not hold (a bug in the caller's plan, or a model without that tensor).
 * Reads the map at each call, so tensors added or replaced later are seen.
 */
export function mapGetter<T>(
  map: ReadonlyMap<string, T>,
  missing: (name: string) => Error = (name) => new Error(`no tensor "${name}"`),
): (name: string) => T {
  return (name) => {
    const value = map.get(name);
    if (value === undefined) throw missing(name);
    return value;
  };
}
