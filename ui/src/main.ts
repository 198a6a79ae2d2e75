import { mount } from "svelte";
import "./styles/app.css";
import App from "./App.svelte";
import { BASE, match, startRouter } from "./lib/router.svelte";
import { prefetchExecution } from "./lib/executionStore.svelte";

// an execution's page: its first query goes out before the app is mounted
const opened = match("/executions/:id", location.pathname.slice(BASE.length));
if (opened) prefetchExecution(opened.id);
startRouter();
mount(App, { target: document.getElementById("app")! });
