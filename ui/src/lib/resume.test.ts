import { describe, expect, it } from "vitest";
import { inputFields, mustGive } from "./inputs";
import { onResumeOf, resumeInputs } from "./resume";

const flow = {
  id: "approval",
  tasks: [
    { id: "first", type: "io.kestra.plugin.core.log.Log" },
    { id: "group", type: "io.kestra.plugin.core.flow.Sequential", tasks: [
      { id: "wait", type: "io.kestra.plugin.core.flow.Pause", onResume: [
        { id: "approved", type: "BOOLEAN", description: "OK?" },
        { id: "count", type: "INT", defaults: 3 },
        { id: "note", type: "STRING", required: false },
      ] },
    ] },
  ],
};

describe("onResumeOf", () => {
  it("finds a nested Pause's inputs, fields as the Execute dialog's", () => {
    const fields = inputFields(onResumeOf(flow, "wait"));
    expect(fields.map((f) => [f.id, f.type, mustGive(f)])).toEqual([
      ["approved", "BOOLEAN", true], ["count", "INT", false], ["note", "STRING", false],
    ]);
    expect(fields[0].description).toBe("OK?");
  });
  it("answers nothing for a task without onResume", () => {
    expect(onResumeOf(flow, "first")).toEqual([]);
    expect(onResumeOf(null, "x")).toEqual([]);
  });
});

describe("resumeInputs", () => {
  it("types the values and leaves out empty optional ones", () => {
    const fields = inputFields(onResumeOf(flow, "wait"));
    expect(resumeInputs(fields, { approved: true, count: "5", note: "" })).toEqual({ approved: true, count: 5 });
    expect(resumeInputs(fields, { count: "x" })).toEqual({ approved: false, count: "x" });
  });
});
