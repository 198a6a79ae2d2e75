import { describe, expect, it } from "vitest";
import { match } from "./router.svelte";

describe("match", () => {
  it("extracts parameters", () => {
    expect(match("/executions/:id", "/executions/abc")).toEqual({ id: "abc" });
    expect(match("/flows/:namespace/:flowId", "/flows/a.b/hello%20x")).toEqual({ namespace: "a.b", flowId: "hello x" });
  });
  it("refuses other paths", () => {
    expect(match("/executions/:id", "/executions")).toBeNull();
    expect(match("/executions", "/flows")).toBeNull();
  });
});
