/**
 * The Resume form: the Pause task's `onResume` inputs, found in the flow's parsed YAML, and the
 * typed values a form's strings become. Pure functions.
 */
export interface ResumeField {
  id: string;
  type: string;
  description: string | null;
  required: boolean;
  defaults: unknown;
}

/** The `onResume` list of the task `taskId`, wherever it is nested in the flow, as written (the
 * same shape as a flow's `inputs`: the Resume form builds its fields as the Execute dialog does). */
export function onResumeOf(flow: unknown, taskId: string): unknown[] {
  const stack: unknown[] = [flow];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (node && typeof node === "object") {
      const record = node as Record<string, unknown>;
      if (record.id === taskId && typeof record.type === "string" && Array.isArray(record.onResume)) return record.onResume;
      stack.push(...Object.values(record));
    }
  }
  return [];
}

/** The form's raw values as the JSON `inputs` of resumeExecution (empty optional ones left out). */
export function resumeInputs(fields: readonly ResumeField[], raw: Record<string, string | boolean>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = raw[field.id];
    if (field.type === "BOOLEAN" || field.type === "BOOL") {
      out[field.id] = value === true || value === "true";
    } else if (value === undefined || value === "") {
      continue;
    } else if (field.type === "INT" || field.type === "INTEGER" || field.type === "FLOAT" || field.type === "NUMBER") {
      const n = Number(value);
      out[field.id] = Number.isFinite(n) ? n : value;
    } else if (field.type === "JSON" || field.type === "ARRAY" || field.type === "MULTISELECT") {
      try {
        out[field.id] = JSON.parse(String(value));
      } catch {
        out[field.id] = value;
      }
    } else out[field.id] = value;
  }
  return out;
}
