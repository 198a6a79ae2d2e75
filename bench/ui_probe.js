// Installed by bench/ui.py on every page before the app's own scripts run (an init script), so
// it sees the first DOM change. Times are performance.now() (ms since navigation start) or,
// for figures compared with server dates, performance.timeOrigin + performance.now() (epoch ms,
// same machine clock as the server).
(() => {
  const TERMINAL = new Set(["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"]);
  const probe = { ganttReadyMs: null, ganttPaintedMs: null, rows: [], frames: [] };
  window.__probe = probe;
  const epoch = () => performance.timeOrigin + performance.now();

  // Gantt: the toolbar counts every task run and each row visible in the scroll region shows a
  // terminal state; checked once per frame, from the frame the condition first holds.
  function ganttReady(expected) {
    const list = document.querySelector('[role="list"][aria-label="Task runs"]');
    const gantt = list && list.closest(".gantt");
    if (!gantt || !gantt.querySelector(".toolbar")?.textContent.includes(`${expected} task runs`)) return false;
    const box = list.getBoundingClientRect();
    const fits = Math.min(expected, Math.floor((box.height - 2) / 30));
    let visible = 0;
    for (const row of list.querySelectorAll("[data-task-run-id]")) {
      const r = row.getBoundingClientRect();
      if (r.bottom <= box.top || r.top >= box.bottom) continue;
      if (!TERMINAL.has(row.getAttribute("data-state"))) return false;
      visible += 1;
    }
    return fits > 0 && visible >= fits;
  }
  probe.watchGantt = (expected) => {
    const tick = () => {
      if (ganttReady(expected)) {
        probe.ganttReadyMs = performance.now();
        performance.mark("gantt-ready");
        // the frame after the next one starts once the ready frame was presented
        requestAnimationFrame(() => requestAnimationFrame(() => (probe.ganttPaintedMs = performance.now())));
      } else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  if (window.__ganttExpect) probe.watchGantt(window.__ganttExpect);

  // Scroll: set scrollTop of the Gantt's scroll region once per frame, top to bottom in
  // `seconds`, and keep every frame's requestAnimationFrame timestamp.
  probe.scrollGantt = (seconds) =>
    new Promise((resolve) => {
      const list = document.querySelector('[role="list"][aria-label="Task runs"]');
      const distance = list.scrollHeight - list.clientHeight;
      let start = null;
      const frame = (t) => {
        probe.frames.push(t);
        if (start === null) performance.mark("scroll-start");
        start ??= t;
        const f = Math.min(1, (t - start) / (seconds * 1000));
        list.scrollTop = f * distance;
        if (f < 1) requestAnimationFrame(frame);
        else requestAnimationFrame(() => (performance.mark("scroll-end"), resolve({ distance, top: list.scrollTop, rows: list.querySelectorAll("[data-task-run-id]").length })));
      };
      requestAnimationFrame(frame);
    });

  // Websocket frames as the page's scripts receive them (epoch ms), registered before the app's
  // own handler: they split commit -> DOM in two (bench/uiparts.py).
  probe.wsFrames = [];
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => probe.wsFrames.push({ t: epoch(), data: e.data }));
    }
  };
  // the page's main thread busy (tasks over 50 ms): frames wait for it
  probe.longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) probe.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  // the two clocks the page could stamp with, compared now and when the bench reads them
  probe.clockSkew = () => Date.now() - epoch();
  probe.skewAtStart = probe.clockSkew();

  // Executions list: when a row appears, and when its data-state changes (epoch ms).
  const seen = new Map();
  function note(tr, kind) {
    const id = tr.getAttribute("data-execution-id");
    const state = tr.getAttribute("data-state");
    if (!id || seen.get(id) === state) return;
    probe.rows.push({ id, state, kind: seen.has(id) ? "state" : kind, t: epoch() });
    seen.set(id, state);
  }
  // each observer callback (epoch ms): the frames in which the list's DOM changed
  probe.domBatches = [];
  const observer = new MutationObserver((records) => {
    probe.domBatches.push(epoch());
    for (const record of records) {
      if (record.type === "attributes") {
        if (record.target.matches?.("tr[data-execution-id]")) note(record.target, "state");
        continue;
      }
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) continue;
        if (node.matches("tr[data-execution-id]")) note(node, "add");
        else for (const tr of node.querySelectorAll("tr[data-execution-id]")) note(tr, "add");
      }
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
})();
