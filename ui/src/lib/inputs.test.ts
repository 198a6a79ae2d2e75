import { describe, expect, it } from "vitest";
import { chosenText, chosenValues, controlOf, executeInputs, fieldHint, initialValues, inputFields, issuesByField, mustGive } from "./inputs";

const flowInputs = [
  { id: "name", type: "STRING", required: true, defaults: null, description: "who", validator: "[a-z]+" },
  { id: "count", type: "INT", required: true, defaults: 3, min: 1, max: 10 },
  { id: "loud", type: "BOOLEAN", required: false, defaults: true },
  { id: "tags", type: "ARRAY", itemType: "STRING", required: false, defaults: ["a"] },
  { id: "when", type: "DATETIME", required: false, defaults: null, displayName: "When" },
  { type: "STRING" },
];

describe("inputFields", () => {
  it("reads Flow.inputs and skips entries without an id", () => {
    const fields = inputFields(flowInputs);
    expect(fields.map((f) => f.id)).toEqual(["name", "count", "loud", "tags", "when"]);
    expect(fields[4].label).toBe("When");
    expect(fields.map(mustGive)).toEqual([true, false, false, false, false]);
    expect(fields.map(controlOf)).toEqual(["text", "text", "checkbox", "textarea", "text"]);
    expect(inputFields(null)).toEqual([]);
  });
  it("hints at type and bounds", () => {
    const fields = inputFields(flowInputs);
    expect(fieldHint(fields[0])).toBe("STRING · matches [a-z]+");
    expect(fieldHint(fields[1])).toBe("INT · min 1 · max 10");
    expect(fieldHint(fields[3])).toBe("ARRAY of STRING");
  });
});

describe("form values", () => {
  const fields = inputFields(flowInputs);
  it("start from the defaults", () => {
    expect(initialValues(fields)).toEqual({ name: "", count: "3", loud: true, tags: '["a"]', when: "" });
  });
  it("become typed inputs; empty ones are left out", () => {
    expect(executeInputs(fields, { name: "bob", count: "7", loud: false, tags: '["x","y"]', when: "" }))
      .toEqual({ name: "bob", count: 7, loud: false, tags: ["x", "y"] });
  });
  it("text that does not parse goes as text, for the server to name the issue", () => {
    expect(executeInputs(fields, { name: "", count: "abc", loud: true, tags: "[oops", when: "x" }))
      .toEqual({ count: "abc", loud: true, tags: "[oops", when: "x" });
  });
});

describe("issuesByField", () => {
  it("groups the server's issues by field, unknown ids apart", () => {
    const fields = inputFields(flowInputs);
    const found = issuesByField(fields, [
      { input: "count", message: "too big" }, { input: "count", message: "odd" }, { input: "zzz", message: "?" },
    ]);
    expect(found.get("count")).toEqual(["too big", "odd"]);
    expect(found.get("")).toEqual(["?"]);
    expect(found.has("name")).toBe(false);
  });
});

describe("choice and secret inputs", () => {
  const fields = inputFields([
    { id: "color", type: "SELECT", values: ["red", "green"], required: true, defaults: null },
    { id: "sizes", type: "MULTISELECT", values: ["S", "M", "L"], required: true, defaults: ["M"] },
    { id: "free", type: "SELECT", values: ["a"], allowCustomValue: true, required: false, defaults: null },
    { id: "old", type: "ENUM", values: ["x", "y"], required: true, defaults: "x" },
    { id: "pw", type: "SECRET", required: true, defaults: null },
    { id: "doc", type: "YAML", required: false, defaults: null },
  ]);
  it("get a select, a multi-select, a text field with suggestions and a password field", () => {
    expect(fields.map(controlOf)).toEqual(["select", "multiselect", "text", "select", "password", "textarea"]);
    expect(fields[0].values).toEqual(["red", "green"]);
    expect(fields[2].allowCustomValue).toBe(true);
    expect(fieldHint(fields[2])).toBe("SELECT · one of a or your own");
  });
  it("a multi-select keeps its choice as a JSON list, sent as a list", () => {
    const options = [{ value: "S", selected: true }, { value: "M", selected: false }, { value: "L", selected: true }];
    expect(chosenText(options)).toBe('["S","L"]');
    expect(chosenText([])).toBe("");
    expect(chosenValues(initialValues(fields).sizes)).toEqual(["M"]);
    expect(chosenValues("[oops")).toEqual([]);
    expect(executeInputs(fields, { color: "red", sizes: '["S","L"]', free: "", old: "y", pw: "hunter2", doc: "a: 1" }))
      .toEqual({ color: "red", sizes: ["S", "L"], old: "y", pw: "hunter2", doc: "a: 1" });
  });
});
