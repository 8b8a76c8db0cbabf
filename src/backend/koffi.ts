/**
 * koffi, the foreign-function interface that the blas backend calls native libraries through (its
 * prebuilt binaries ship inside its npm package: no compiler, nothing downloaded). Typed arrays
 * passed for pointer parameters are passed as pointers, not copied.
 */

export interface KoffiLibrary {
  func(signature: string): (...args: unknown[]) => unknown;
}

export interface Koffi {
  load(path: string): KoffiLibrary;
}

/** The koffi specifier is a variable so the type checker does not require the optional package. */
export async function importKoffi(): Promise<Koffi> {
  const specifier = 'koffi';
  const module = (await import(specifier)) as { default?: Koffi } & Partial<Koffi>;
  const koffi = module.default ?? (module as Koffi);
  if (typeof koffi.load !== 'function') throw new Error('koffi loaded but has no load()');
  return koffi;
}

/** A function the library may lack: undefined instead of koffi's throw. */
export function optionalFunc(lib: KoffiLibrary, signature: string): ((...args: unknown[]) => unknown) | undefined {
  try {
    return lib.func(signature);
  } catch {
    return undefined;
  }
}
