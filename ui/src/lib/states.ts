/** What the UI knows about Kestra's states: which end an entity, and how each one looks. */
import type { StateType } from "../gql/graphql";

export type { StateType };

export const ALL_STATES: StateType[] = [
  "CREATED", "SUBMITTED", "QUEUED", "RUNNING", "PAUSED", "RESTARTED", "KILLING", "RETRYING",
  "SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED", "BREAKPOINT",
  "RESUBMITTED",
];

const TERMINAL = new Set<string>([
  "SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED",
]);

export function isTerminal(state: string): boolean {
  return TERMINAL.has(state);
}

/** A colour family per state (CSS classes `s-<family>`), as Kestra users expect them. */
export function stateFamily(state: string): string {
  switch (state) {
    case "SUCCESS": return "ok";
    case "WARNING": return "warn";
    case "FAILED": return "bad";
    case "KILLED": case "KILLING": case "CANCELLED": return "killed";
    case "RUNNING": return "run";
    case "PAUSED": case "BREAKPOINT": return "paused";
    case "RETRYING": case "RETRIED": case "RESTARTED": case "RESUBMITTED": return "retry";
    case "SKIPPED": return "skip";
    default: return "idle";
  }
}
