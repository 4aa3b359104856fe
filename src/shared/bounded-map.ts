// The Worker's per-isolate memos (verified tokens, object ids, checked query
// strings) are keyed by what clients send, so each keeps at most
// `limit` entries and lets the oldest go first.
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V) {
    if (!this.has(key) && this.size >= this.limit) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}
