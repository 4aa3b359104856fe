import { it, expect } from "vitest";
import { publish, unique } from "./helpers";
it("probe", async () => {
  const u = unique("p");
  const t = performance.now();
  for (let i = 0; i < 200; i++) await publish(u);
  console.log("seq 200", performance.now() - t);
  const u2 = unique("p");
  const t2 = performance.now();
  await Promise.all(Array.from({ length: 1001 }, () => publish(u2)));
  console.log("conc 1001", performance.now() - t2);
  expect(1).toBe(1);
}, 60000);
