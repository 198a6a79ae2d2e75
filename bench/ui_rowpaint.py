"""What a frame of the open executions list costs the renderer, apart from the server and the
app's script: a static table styled like the list (ui/src/styles/app.css, rows shaped like
ExecutionRow's) takes `NEW_PER_FRAME` rows on top, drops as many at the bottom and changes
`CHANGED_PER_FRAME` rows' state, once per animation frame for `SECONDS`, under a Chrome trace;
per frame: the renderer main thread's CPU and its layout, paint and pre-paint, and the CPU of
every chromium process (/proc). The page does nothing else, so a variant's CSS is what differs.

`python -m bench.ui_rowpaint [--rounds N] [VARIANT ...]` (bench/NOTES.md, 2026-12-07).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from bench import uitrace
from bench.uiload import CHROMIUM

APP_CSS = Path(__file__).parents[1] / "ui" / "src" / "styles" / "app.css"
ROWS = 100
NEW_PER_FRAME = 5
CHANGED_PER_FRAME = 10
SECONDS = 4.0
FIXED = (
    ".executions{table-layout:fixed} .executions th:nth-child(1){width:34px}"
    " .executions th:nth-child(2){width:112px} .executions th:nth-child(4){width:124px}"
    " .executions th:nth-child(5){width:186px} .executions th:nth-child(6){width:96px}"
    " .executions th:nth-child(8){width:84px}"
)
#: extra CSS per variant; `row-transform` is what ExecutionRow.svelte does
VARIANTS = {
    "auto": "",
    "row-transform": "tbody tr{transform:translateX(0)}",
    "fixed-layout": FIXED,
    "composited-rows": "tbody tr{transform:translateZ(0)}",
}
ROW = (
    '<tr data-execution-id="ID" data-state="RUNNING"><td class="pick"><input type="checkbox"'
    ' aria-label="Select execution ID"></td><td><a class="mono" href="/ui/executions/ID">ID</a>'
    '</td><td class="flow"><span class="muted">bench.ui.t1796617302.</span><wbr><a href="#">'
    'live</a></td><td><span class="badge s-run">RUNNING</span></td><td><time datetime="2026">'
    '2026-12-07 04:21:59</time></td><td><span class="num">619ms</span></td><td></td>'
    '<td class="num">1</td></tr>'
)
PAGE = """<html><head><style>%s .pick{width:34px;padding-right:0}
.pick input{width:16px;height:16px;margin:0;vertical-align:middle} %s</style></head><body>
<section class="page"><h1>Executions</h1><div style="height:280px"></div><div class="table-box">
<table class="grid executions"><thead><tr><th class="pick"><input type="checkbox"></th><th>Id</th>
<th>Flow</th><th>State</th><th>Start</th><th>Duration</th><th>Labels</th><th>Attempts</th></tr>
</thead><tbody></tbody></table></div></section><script>
const ROW = %s; let n = 0; const body = document.querySelector("tbody");
const make = () => { const t = document.createElement("template");
  t.innerHTML = ROW.replaceAll("ID", "e" + ++n); return t.content.firstChild; };
for (let i = 0; i < %d; i++) body.append(make());
window.stream = (seconds, add, change) => new Promise((done) => {
  performance.mark("stream-start"); const start = performance.now(); let frames = 0;
  const frame = () => {
    frames++;
    for (let i = 0; i < add; i++) { body.prepend(make()); body.lastChild.remove(); }
    for (let i = add; i < add + change; i++) {
      const row = body.children[i], badge = row.children[3].firstChild;
      row.setAttribute("data-state", "SUCCESS"); badge.textContent = "SUCCESS";
      badge.className = "badge s-ok";
    }
    if (performance.now() - start < seconds * 1000) requestAnimationFrame(frame);
    else { performance.mark("stream-end"); done(frames); }
  };
  requestAnimationFrame(frame);
});
</script></body></html>"""


def chromium_cpu_s() -> float:
    """CPU seconds of the chromium processes below this one (the browser Playwright started)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(stat[1]), []).append(int(entry))
    total, todo = 0.0, [os.getpid()]
    while todo:
        for pid in children.get(todo.pop(), []):
            todo.append(pid)
            try:
                if "chrom" in Path(f"/proc/{pid}/cmdline").read_text()[:60]:
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
            except OSError:
                continue
    return total


def per_frame(events: list[dict[str, Any]], frames: int) -> dict[str, float]:
    """The page's renderer main thread between the stream's marks, ms per frame."""
    pid, tid = uitrace._main_thread(events, "stream-start")
    start, end = uitrace._mark(events, "stream-start"), uitrace._mark(events, "stream-end")
    main = [e for e in events if (e.get("pid"), e.get("tid")) == (pid, tid)]
    main = [e for e in main if uitrace._inside(e, start, end)]

    def cpu(names: tuple[str, ...]) -> float:
        return uitrace._ms([e for e in main if e["name"] in names], "tdur", frames)

    return {
        "main": cpu(tuple(uitrace.TOP_LEVEL)),
        "layout": cpu(("Layout",)),
        "paint": cpu(("Paint",)),
        "pre_paint": cpu(("PrePaint",)),
        "script": cpu(("FireAnimationFrame",)),
    }


def measure(browser: Any, css: str, extra: str) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_content(PAGE % (css, extra, json.dumps(ROW), ROWS))
    page.wait_for_timeout(300)
    cpu_before = chromium_cpu_s()
    with uitrace.traced(browser, page) as trace:
        frames: int = page.evaluate(
            "([s, a, c]) => stream(s, a, c)", [SECONDS, NEW_PER_FRAME, CHANGED_PER_FRAME]
        )
        cpu_after = chromium_cpu_s()
    page.close()
    chromium = round((cpu_after - cpu_before) * 1000 / frames, 2)
    return {"frames": frames, "chromium": chromium} | per_frame(trace["events"], frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    css = APP_CSS.read_text()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM)
        for round_ in range(args.rounds):
            for name in args.variants:
                row = {"variant": name, "round": round_, "load": os.getloadavg()[0]}
                print(json.dumps(row | measure(browser, css, VARIANTS[name])), flush=True)
        browser.close()


if __name__ == "__main__":
    main()
