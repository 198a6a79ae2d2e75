/**
 * The Execute dialog's form: fields from a flow's `inputs` (as `Flow.inputs` gives them), the
 * initial text of each, the JSON `inputs` of createExecution, and the server's issues by field.
 * Pure functions; values are coerced as the Resume form does (`resumeInputs`).
 */
import { resumeInputs, type ResumeField } from "./resume";

export interface InputField extends ResumeField {
  label: string;
  itemType: string | null;
  validator: string | null;
  min: unknown;
  max: unknown;
  /** SELECT, MULTISELECT, ENUM: the values to choose from */
  values: string[] | null;
  allowCustomValue: boolean;
}

export type RawValues = Record<string, string | boolean>;

/** The fields of a flow's `inputs` JSON; entries without a string id are skipped. */
export function inputFields(inputs: unknown): InputField[] {
  if (!Array.isArray(inputs)) return [];
  return inputs
    .filter((x): x is Record<string, unknown> => !!x && typeof x === "object" && typeof (x as Record<string, unknown>).id === "string")
    .map((x) => ({
      id: String(x.id),
      type: String(x.type ?? "STRING").toUpperCase(),
      label: typeof x.displayName === "string" ? x.displayName : String(x.id),
      description: typeof x.description === "string" ? x.description : null,
      required: x.required !== false,
      defaults: x.defaults ?? null,
      itemType: typeof x.itemType === "string" ? x.itemType : null,
      validator: typeof x.validator === "string" ? x.validator : null,
      min: x.min ?? null,
      max: x.max ?? null,
      values: Array.isArray(x.values) ? x.values.map(String) : null,
      allowCustomValue: x.allowCustomValue === true,
    }));
}

/** A required input without a default must be given: the form marks it. */
export function mustGive(field: InputField): boolean {
  return field.required && field.defaults === null;
}

export type Control = "checkbox" | "textarea" | "text" | "select" | "multiselect" | "password";

/** Which control a field gets: a select for SELECT and ENUM (a text field with suggestions when
 * custom values are allowed), a multi-select for MULTISELECT, a password field for SECRET. */
export function controlOf(field: InputField): Control {
  if (field.type === "BOOLEAN") return "checkbox";
  if (field.type === "SECRET") return "password";
  if ((field.type === "SELECT" || field.type === "ENUM") && field.values && !field.allowCustomValue) return "select";
  if (field.type === "MULTISELECT" && field.values && !field.allowCustomValue) return "multiselect";
  if (field.type === "JSON" || field.type === "ARRAY" || field.type === "YAML" || field.type === "MULTISELECT") return "textarea";
  return "text";
}

/** The chosen options of a multi-select, as the JSON array text the form keeps. */
export function chosenText(options: readonly { selected: boolean; value: string }[]): string {
  const chosen = options.filter((o) => o.selected).map((o) => o.value);
  return chosen.length ? JSON.stringify(chosen) : "";
}

/** The values a multi-select shows as chosen, from the form's text. */
export function chosenValues(text: string | boolean | undefined): string[] {
  if (typeof text !== "string" || !text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}

/** The form's first values: the defaults as text (JSON for structured ones). */
export function initialValues(fields: readonly InputField[]): RawValues {
  const out: RawValues = {};
  for (const field of fields) {
    const d = field.defaults;
    if (field.type === "BOOLEAN") out[field.id] = d === true || d === "true";
    else if (d === null || d === undefined) out[field.id] = "";
    else if (typeof d === "object") out[field.id] = JSON.stringify(d);
    else out[field.id] = String(d);
  }
  return out;
}

/** A hint under a field: its type and its bounds. */
export function fieldHint(field: InputField): string {
  const parts = [field.type === "ARRAY" && field.itemType ? `ARRAY of ${field.itemType}` : field.type];
  if (field.min !== null) parts.push(`min ${String(field.min)}`);
  if (field.max !== null) parts.push(`max ${String(field.max)}`);
  if (field.validator) parts.push(`matches ${field.validator}`);
  if (field.type === "DATETIME") parts.push("e.g. 2026-01-31T12:00:00Z");
  if (field.type === "DURATION") parts.push("e.g. PT5M");
  if (field.type === "URI") parts.push("e.g. https://example.com/path");
  if (field.type === "DATE") parts.push("e.g. 2026-01-31");
  if (field.type === "TIME") parts.push("e.g. 12:00:00");
  if (field.type === "MULTISELECT" && controlOf(field) === "textarea") parts.push('a JSON list, e.g. ["a","b"]');
  if (field.values && controlOf(field) === "text") parts.push(`one of ${field.values.join(", ")} or your own`);
  return parts.join(" · ");
}

/** The `inputs` of createExecution: typed values; empty ones are left out (defaults apply). */
export function executeInputs(fields: readonly InputField[], raw: RawValues): Record<string, unknown> {
  return resumeInputs(fields, raw);
}

/** The server's `InvalidInputsError` issues by input id; issues of unknown ids under "". */
export function issuesByField(fields: readonly InputField[], issues: readonly { input: string; message: string }[]): Map<string, string[]> {
  const known = new Set(fields.map((f) => f.id));
  const out = new Map<string, string[]>();
  for (const issue of issues) {
    const key = known.has(issue.input) ? issue.input : "";
    out.set(key, [...(out.get(key) ?? []), issue.message]);
  }
  return out;
}
