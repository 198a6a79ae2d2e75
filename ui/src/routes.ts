/**
 * The app's screens by path (ui/README.md#stable-hooks). To add a screen: write
 * screens/X.svelte and add a line here; `nav` entries show in the header.
 */
import type { Component } from "svelte";
import ExecutionsList from "./screens/ExecutionsList.svelte";
import ExecutionPage from "./screens/ExecutionPage.svelte";
import TaskRuns from "./screens/TaskRuns.svelte";
import FlowsList from "./screens/FlowsList.svelte";
import FlowPage from "./screens/FlowPage.svelte";
import Dashboard from "./screens/Dashboard.svelte";
import Triggers from "./screens/Triggers.svelte";

export interface RouteDef {
  pattern: string;
  component: Component<any>;
  props?: Record<string, unknown>;
  nav?: string;
}

export const ROUTES: RouteDef[] = [
  { pattern: "/executions", component: ExecutionsList, nav: "Executions" },
  { pattern: "/executions/:id", component: ExecutionPage },
  { pattern: "/taskruns", component: TaskRuns, nav: "Task runs" },
  { pattern: "/flows", component: FlowsList, nav: "Flows" },
  { pattern: "/flows/:namespace/:flowId", component: FlowPage },
  { pattern: "/triggers", component: Triggers, nav: "Triggers" },
  { pattern: "/dashboard", component: Dashboard, nav: "Dashboard" },
];
