/**
 * The header's UTC switch as one reactive value for every date on screen: a date reads it and
 * follows the switch, with no effect and listener of its own (a list taking new rows at 100
 * executions/s made and dropped one of each per row).
 */
import { onUtcChange, useUtc } from "./format";

export const utcSwitch = $state({ on: useUtc() });

onUtcChange(() => (utcSwitch.on = useUtc()));
