// Where the client keeps its cursors and its device id. Any key-value store fits: React Native's
// AsyncStorage with a two-line adapter ({ get: (k) => AsyncStorage.getItem(k), set: (k, v) => AsyncStorage.setItem(k, v) }).
export interface PostboxStorage {
  get(key: string): string | null | Promise<string | null>;
  set(key: string, value: string): void | Promise<void>;
}

/** Kept for the life of the page or process only. */
export function memoryStorage(): PostboxStorage {
  const values = new Map<string, string>();
  return { get: (key) => values.get(key) ?? null, set: (key, value) => void values.set(key, value) };
}

/** The part of the Web Storage API (localStorage, sessionStorage) used here. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** localStorage or sessionStorage, under keys starting with `prefix`. */
export function webStorage(storage: WebStorageLike, prefix = "postbox:"): PostboxStorage {
  return { get: (key) => storage.getItem(prefix + key), set: (key, value) => storage.setItem(prefix + key, value) };
}
