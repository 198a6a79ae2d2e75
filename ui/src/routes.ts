/**
 * The app's screens by path (contract §6). To add a screen: write screens/X.svelte and add a
 * line here; `nav` entries show in the header.
 */
import type { Component } from "svelte";
import ExecutionsList from "./screens/ExecutionsList.svelte";
import ExecutionPage from "./screens/ExecutionPage.svelte";
import Placeholder from "./screens/Placeholder.svelte";

export interface RouteDef {
  pattern: string;
  component: Component<any>;
  props?: Record<string, unknown>;
  nav?: string;
}

export const ROUTES: RouteDef[] = [
  { pattern: "/executions", component: ExecutionsList, nav: "Executions" },
  { pattern: "/executions/:id", component: ExecutionPage },
  { pattern: "/taskruns", component: Placeholder, props: { title: "Task runs" }, nav: "Task runs" },
  { pattern: "/flows", component: Placeholder, props: { title: "Flows" }, nav: "Flows" },
  { pattern: "/flows/:namespace/:flowId", component: Placeholder, props: { title: "Flow" } },
  { pattern: "/dashboard", component: Placeholder, props: { title: "Dashboard" }, nav: "Dashboard" },
];
