import { afterEach, describe, expect, it, vi } from "vitest";
import { ExecutionStore, prefetchExecution } from "./executionStore.svelte";

/** A /graphql that answers every ExecutionPage query with one terminal execution, counting. */
function server() {
  const asked: string[] = [];
  vi.stubGlobal("sessionStorage", { getItem: () => null });
  vi.stubGlobal("fetch", async (_url: string, init: { body: string }) => {
    const { variables } = JSON.parse(init.body) as { variables: { id: string } };
    asked.push(variables.id);
    const timeline = { execution: [["CREATED", 1_000_000], ["SUCCESS", 2_000_000]], taskRuns: [] };
    const execution = { id: variables.id, namespace: "n", flowId: "f", flowRevision: 1, inputs: null, outputs: null,
      parentId: null, originalId: variables.id, labels: [], metadata: { attemptNumber: 1, originalCreatedDate: "" }, trigger: null, timeline };
    return { status: 200, json: async () => ({ data: { execution } }) };
  });
  return asked;
}

afterEach(() => vi.unstubAllGlobals());

describe("prefetchExecution", () => {
  it("sends the first query before the page exists; the page's store takes that answer instead of asking again", async () => {
    const asked = server();
    prefetchExecution("e1");
    expect(asked).toEqual(["e1"]);
    const store = new ExecutionStore("e1");
    await store.refetch();
    expect(asked).toEqual(["e1"]);
    expect(store.execution?.id).toBe("e1");
    expect(store.execution?.state.current).toBe("SUCCESS");
    await store.refetch(); // taken once: a later refetch asks the server
    expect(asked).toEqual(["e1", "e1"]);
  });

  it("is not used by another execution's store", async () => {
    const asked = server();
    prefetchExecution("e1");
    const store = new ExecutionStore("e2");
    await store.refetch();
    expect(asked).toEqual(["e1", "e2"]);
    expect(store.execution?.id).toBe("e2");
  });
});
