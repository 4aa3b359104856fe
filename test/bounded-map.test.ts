// The per-isolate memos keep at most their limit, letting the oldest go first.
import { describe, expect, it } from "vitest";
import { BoundedMap } from "../src/shared/bounded-map";

describe("BoundedMap", () => {
  it("past its limit, forgets the oldest entry", () => {
    const map = new BoundedMap<string, number>(2);
    map.set("a", 1).set("b", 2).set("c", 3);
    expect([...map.keys()]).toEqual(["b", "c"]);
  });

  it("replacing a key it holds forgets nothing", () => {
    const map = new BoundedMap<string, number>(2);
    map.set("a", 1).set("b", 2).set("a", 3);
    expect([...map]).toEqual([["a", 3], ["b", 2]]);
  });
});
