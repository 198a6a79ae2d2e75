"""RESULTS.md: the figures next to the tiers of the performance issue and the peers' figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import bulk, foreachitem, hostile, purge

#: scenario -> (label, first tier, second tier, goal) in the scenario's unit; lower is better
#: unless the scenario is in HIGHER_IS_BETTER
TIERS: dict[str, tuple[str, float, float, float]] = {
    "chain_40": ("chain of 40 Return tasks", 110, 60, 40),
    "chain_40_worker_path": ("chain of 40 Sleep PT0S tasks (worker path)", 110, 60, 40),
    "foreach_1000_unbounded": ("ForEach over 1,000 values, concurrencyLimit 0", 500, 200, 100),
    "api_executions_per_second": (
        "one-task executions/s through GraphQL, p99 send->SUCCESS <= 1 s",
        300,
        600,
        900,
    ),
    "api_list_page": ("list page executions(first: 100) with task runs, p50", 150, 80, 40),
    "sustained_100k_task_runs": (
        "100,000 task runs sustained (10,000 chains of 10, 100 in flight)",
        60,
        30,
        15,
    ),
    "delivery_100": ("delivery p99, 100 websocket subscribers, commit->client", 50, 30, 15),
    "delivery_1000": ("delivery p99, 1,000 websocket subscribers, commit->client", 400, 150, 100),
    "api_typename_hostile": (
        "`{ __typename }` p99 while hostile expressions render (refused by size)",
        200,
        100,
        50,
    ),
}

#: scenarios whose tiered figure is not the median: (figure key, key of its per-run values)
FIGURES: dict[str, tuple[str, str]] = {
    "delivery_100": ("p99", "p99_by_run"),
    "delivery_1000": ("p99", "p99_by_run"),
    "ui_list_commit_to_dom": ("p99", "p99_by_run"),
}

#: the scenarios whose figure is a rate: higher is better
HIGHER_IS_BETTER = frozenset({"api_executions_per_second", "ui_gantt_10000_scroll"})

#: the web UI's targets (issue 13, Speed): scenario -> (label, target); one target, no tiers
TARGETS: dict[str, tuple[str, float]] = {
    "ui_gantt_2000": ("web UI: navigation -> Gantt of 2,000 task runs shown", 1000),
    "ui_gantt_10000": ("web UI: navigation -> Gantt of 10,000 task runs shown", 2000),
    "ui_gantt_10000_scroll": ("web UI: Gantt of 10,000 task runs scrolled top to bottom", 50),
    "ui_list_commit_to_dom": (
        "web UI: commit -> DOM p99, 100 executions/s into the open list",
        100,
    ),
    "ui_bundle_app": ("web UI: the app's JavaScript, gzipped (every chunk its pages load)", 250),
    "ui_bundle_graphiql": ("web UI: GraphiQL's own JavaScript, gzipped (its page only)", 0),
    "bulk_restart_10000": (
        "bulkExecutions RESTART of 10,000 FAILED executions, until every item is committed",
        5,
    ),
    "purge_100000": (
        "PurgeExecutions of 100,000 ended executions, creation to SUCCESS (no target)",
        0,
    ),
    "foreachitem_10000_rows": (
        "ForEachItem, 10,000 rows into 1,000 subflow executions, creation to SUCCESS (no target)",
        0,
    ),
    "foreachitem_10000_rows_outputs": (
        "ForEachItem, 10,000 rows into 1,000 subflows, their outputs merged (no target)",
        0,
    ),
}

#: labels of scenarios without tiers
LABELS: dict[str, str] = {
    "api_typename_idle": "`{ __typename }` p99, nothing else running",
    "api_typename_benign": "`{ __typename }` p99 while ordinary ForEach renders run",
    "api_typename_heavy": "`{ __typename }` p99 while heavy renders within the limits run",
    "api_typename_deadline": "`{ __typename }` p99 while renders run to the 1 s deadline",
    "api_idle_latency": "idle single execution through GraphQL, send->SUCCESS",
    "chain_40_normal": "chain of 40 Return tasks, synchronous=NORMAL",
    "chain_40_worker_path_normal": "chain of 40 Sleep PT0S tasks (worker path), synchronous=NORMAL",
    "shell_output_200mb_rss": "server peak RSS, a shell task printing 200 MB (limit 150 MiB)",
    "shell_output_1000mb_rss": "server peak RSS, a shell task printing 1 GB (limit 150 MiB)",
    "shell_output_200mb_stderr_rss": "server peak RSS, 200 MB on stderr (limit 150 MiB)",
}

PEERS = (
    "Published figures for the chain of 40 light tasks (their hardware: 4-8 cores plus a database "
    "machine): Kestra 3.5 s, Hatchet 1.2 s, Temporal 0.76 s, Windmill 0.39 s, Prefect 3 (not "
    "durable per step) 0.14 s. Kestra OSS runs a ForEach at about 25 task runs/s."
)


def _tier(value: float, tiers: tuple[float, float, float], higher: bool = False) -> str:
    first, second, goal = tiers
    if higher:
        value, first, second, goal = -value, -first, -second, -goal
    if value <= goal:
        return "goal"
    if value <= second:
        return "second tier"
    if value <= first:
        return "first tier"
    return "below first tier"


#: the sustained goal also asks for at most this much on disk (database + WAL), in MB (10^6)
DISK_GOAL_MB = 150


def _disk_mb(data: dict[str, Any]) -> float | None:
    """Database + WAL in MB (the run records MiB)."""
    found = data.get("db_plus_wal_mb")
    return None if found is None else float(found) * 2**20 / 1e6


def _over_disk_goal(name: str, data: dict[str, Any]) -> bool:
    disk = _disk_mb(data)
    return name == "sustained_100k_task_runs" and disk is not None and disk > DISK_GOAL_MB


def _full_cost_lines(scenarios: dict[str, Any]) -> list[str]:
    """What synchronous=FULL costs against NORMAL, on the two chains measured both ways."""
    pairs = [
        ("chain_40", "chain_40_normal", "chain of 40 Return tasks (commits batched)"),
        (
            "chain_40_worker_path",
            "chain_40_worker_path_normal",
            "chain of 40 Sleep tasks (one durable commit per attempt start)",
        ),
    ]
    found = []
    for full, normal, label in pairs:
        with_full = scenarios.get(full, {}).get("median")
        with_normal = scenarios.get(normal, {}).get("median")
        if isinstance(with_full, int | float) and isinstance(with_normal, int | float):
            found.append(f"{label} {with_full:.1f} ms with FULL, {with_normal:.1f} ms with NORMAL")
    if not found:
        return []
    return ["", "What synchronous=FULL costs: " + "; ".join(found) + "."]


#: measurements taken by hand (comparisons between commits, which `make bench` cannot make),
#: kept with the generated report
NOTES = Path(__file__).with_name("NOTES.md")


def _sent(live: dict[str, Any]) -> str:
    """How the open list's executions were sent: open loop (with the answer times) or, in
    results of before 2026-12-07, by 4 clients each waiting for its answer."""
    sent = live.get("sent_per_s", "?")
    if "create_answer_p50_ms" not in live:
        return f"(sent at {sent}/s by 4 clients, each waiting for its answers)"
    return (
        f"(sent at {sent}/s, open loop; `createExecution` answered p50 "
        f"{live['create_answer_p50_ms']:.0f} ms, p99 {live['create_answer_p99_ms']:.0f} ms)"
    )


def _list_parts(live: dict[str, Any]) -> str:
    """The open list's commit -> DOM in two parts (bench/uiparts.py), and its own load."""
    parts, run = live.get("parts", {}), live.get("run", {})
    if "app_p99" not in parts:
        return ""
    return (
        f"; split: date -> the frame in the page's scripts p50 {parts['delivered_p50']:.0f} ms, "
        f"p99 {parts['delivered_p99']:.0f} ms, frame -> DOM p50 {parts['app_p50']:.0f} ms, "
        f"p99 {parts['app_p99']:.0f} ms{_server_part(parts)}; the page's long tasks summed "
        f"{parts['main_thread_busy_ms'] / 1000:.1f} s; this figure's run: load average "
        f"{run.get('loadavg_start', '?')} at the start, {run.get('loadavg_end', '?')} at the end"
    )


def _server_part(parts: dict[str, Any]) -> str:
    """The date -> frame part split at a second subscriber of the stream (bench/uiwatch.py)."""
    if parts.get("server_p99") is None:
        return ""
    return (
        f"; date -> frame split at a second subscriber in its own process: the server p50 "
        f"{parts['server_p50']:.0f} ms, p99 {parts['server_p99']:.0f} ms, then the browser p50 "
        f"{parts['browser_p50']:.0f} ms, p99 {parts['browser_p99']:.0f} ms"
    )


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {m['cores']} cores, {m['processor']}, {m['platform']}; Python {m['python']}, "
        f"SQLite {m['sqlite']}; measured {m['date']}. Default settings: WAL, synchronous=FULL, "
        "every transition persisted. Figures are medians of several runs (min-max in brackets), "
        "taken from the engine's own state histories. Reproduce with `make bench`." + _load(m),
        "",
        "| scenario | median | spread | tier (first / second / goal) |",
        "|---|---|---|---|",
    ]
    for name, data in results["scenarios"].items():
        label, *tiers = TIERS.get(name, (LABELS.get(name, TARGETS.get(name, (name,))[0]), 0, 0, 0))
        if "error" in data or not isinstance(data.get("median"), int | float):
            error = " ".join(str(data.get("error", "no figure")).split())[:300]
            lines.append(f"| {label} | failed | | {error.replace('|', '/')} |")
            continue
        higher = name in HIGHER_IS_BETTER
        key, runs = FIGURES.get(name, ("median", ""))
        value = data[key]
        low, high = data.get("min", value), data.get("max", value)
        if runs in data:  # spread of the per-run figures (p99 of each run)
            low, high = min(data[runs]), max(data[runs])
        tier = ""
        if name in TIERS:
            tier = _tier(value, (tiers[0], tiers[1], tiers[2]), higher)
            if tier == "goal" and _over_disk_goal(name, data):
                tier = "second tier (the goal's time, not its disk)"
            tier += f" ({tiers[0]:g} / {tiers[1]:g} / {tiers[2]:g} {data['unit']}"
            tier += ", higher is better)" if higher else ")"
        if TARGETS.get(name, ("", 0))[1]:
            tier = _target(value, TARGETS[name][1], data["unit"], higher)
        lines.append(
            f"| {label} | {value:.1f} {data.get('unit', '')} | [{low:.1f}-{high:.1f}] | {tier} |"
        )
    chain = results["scenarios"].get("chain_40", {})
    if "created_to_running_ms" in chain:
        lines += [
            "",
            "Chain of 40, mean per task: CREATED->RUNNING "
            f"{chain['created_to_running_ms']:.2f} ms, RUNNING->SUCCESS "
            f"{chain['running_to_success_ms']:.2f} ms, SUCCESS->next CREATED "
            f"{chain['success_to_next_created_ms']:.2f} ms.",
        ]
    lines += _full_cost_lines(results["scenarios"])
    big = results["scenarios"].get("foreach_10000_unbounded", {})
    if "ratio_to_1000" in big:
        lines += [
            "",
            f"ForEach 10,000 costs {big['ratio_to_1000']:.1f}x the 1,000 case (limit: 12x).",
        ]
    lines += _api_lines(results["scenarios"]) + _sustained_lines(results["scenarios"])
    lines += _output_lines(results["scenarios"]) + hostile.report_lines(results["scenarios"])
    lines += _ui_lines(results["scenarios"]) + bulk.report_lines(results["scenarios"])
    lines += purge.report_lines(results["scenarios"])
    lines += foreachitem.report_lines(results["scenarios"])
    lines += [
        "",
        "Return, Log, Echo, Fail and OutputValues are pure in-process tasks: they run inside "
        "the engine pass and their attempt row is committed with its result (a crash before "
        "that commit loses both, so delivery stays at-least-once). Every other runnable takes "
        "the worker path: its attempt row is committed before its body starts, one durable "
        "commit per attempt start; the Sleep chain shows that path.",
        "",
        PEERS,
        "",
    ]
    if NOTES.exists():
        lines += [NOTES.read_text().strip(), ""]
    return "\n".join(lines)


def _target(value: float, target: float, unit: str, higher: bool) -> str:
    met = value >= target if higher else value <= target
    return f"target {'>=' if higher else '<='} {target:g} {unit}: {'met' if met else 'MISSED'}"


def _gantt_phases(gantt: dict[str, Any]) -> str:
    """The navigation's phases and CPU of one Gantt size (bench/uitrace.py), when recorded."""
    phases = gantt.get("phases_median")
    if not phases:
        return ""
    said = ", ".join(f"{k} {v:.0f}" for k, v in phases.items() if v is not None and k != "ready")
    return (
        f"; {gantt['task_runs']:,} task runs: renderer main thread CPU until ready "
        f"{gantt['main_cpu_ms_median']:.0f} ms (other renderer threads "
        f"{gantt['other_cpu_ms_median']:.0f} ms), phases in ms ({said})"
    )


def _scroll_cost(scroll: dict[str, Any]) -> str:
    traced = scroll.get("traced")
    if not traced:
        return ""
    kinds = ", ".join(f"{k} {v:.1f}" for k, v in traced["by_kind_ms_per_frame"].items())
    return (
        f"; traced: renderer main thread CPU {traced['main_cpu_ms_per_frame']:.1f} ms per frame "
        f"({kinds}; a forced layout counts in script too), other renderer threads "
        f"{traced['other_cpu_ms_per_frame']:.1f} ms, every chromium thread "
        f"{traced['all_cpu_ms_per_frame']:.1f} ms, {traced['traced_fps']:.1f} frames/s "
        "while traced"
    )


def _ui_lines(scenarios: dict[str, Any]) -> list[str]:
    """How the web UI's figures were taken (bench/ui.py), and the load of their run."""
    if not any(name.startswith("ui_") for name in scenarios):
        return []
    lines = [
        "",
        "Web UI (bench/ui.py: Debian's headless chromium under Playwright, a fresh "
        "browser context per page load, a `tercel server` subprocess on its own database)",
    ]
    run = next((v["run"] for k, v in scenarios.items() if k.startswith("ui_") and "run" in v), None)
    if run:
        lines[-1] += f", measured {run['date']}" + _load(run).rstrip(".")
    gantt = [scenarios.get(f"ui_gantt_{n}", {}) for n in (2000, 10000)]
    if all("median" in g for g in gantt):
        lines[-1] += (
            f". Gantt: navigation start -> the first frame in which the toolbar counts every "
            f"task run and every visible row shows its terminal state; the frame after it was "
            f"presented at {gantt[0]['painted_median']:.0f} and "
            f"{gantt[1]['painted_median']:.0f} ms (medians)"
        )
        lines[-1] += "".join(_gantt_phases(g) for g in gantt)
    scroll = scenarios.get("ui_gantt_10000_scroll", {})
    if "median" in scroll:
        lines[-1] += (
            f". Scroll: {scroll['distance_px']:,} px top to bottom in {scroll['seconds']:g} s, "
            f"scrollTop set once per frame; {scroll['slow_frame_share'] * 100:.0f}% of frames "
            f"took more than 20 ms, the longest {scroll['longest_frame_ms']:.0f} ms"
        )
        lines[-1] += _scroll_cost(scroll)
    live = scenarios.get("ui_list_commit_to_dom", {})
    if "appear_p50" in live:
        lines[-1] += (
            f". Open list: {live['executions']} executions offered at {live['rate_per_s']}/s "
            f"{_sent(live)}; a row's appearance from its CREATED date p50 {live['appear_p50']:.0f} "
            f"ms, p99 {live['appear_p99']:.0f} ms; a state change in place "
            f"({live['changes_timed']}) from that state's date p50 {live['change_p50']:.0f} "
            f"ms, p99 {live['change_p99']:.0f} ms; never shown {live['never_shown']} "
            f"(not rendered at the end: {live.get('not_in_dom_at_end', '?')}; the list renders "
            "its newest 100 rows, the others as the reader scrolls), not "
            f"in their final state {live['not_final_state']} (dates: the engine's, stamped "
            "just before the "
            "commit; DOM times: a MutationObserver, same clock); page errors: "
            f"{len(live.get('page_errors', []))}"
        )
        lines[-1] += _list_parts(live)
    app = scenarios.get("ui_bundle_app", {})
    if "chunks" in app:
        lines[-1] += (
            f". Bundle: {len(app['chunks'])} app chunks ({app['raw_kb']:.0f} KB raw); the app's "
            f"pages loaded {', '.join(app['loaded_by_app_pages'])}; GraphiQL chunks loaded by "
            f"them: {len(app['graphiql_chunks_loaded_by_app'])}"
        )
    lines[-1] += "."
    return lines


def _load(machine: dict[str, Any]) -> str:
    if "loadavg_start" not in machine:
        return ""
    return (
        f" 1-minute load average {machine['loadavg_start']:g} at the start, "
        f"{machine.get('loadavg_end', float('nan')):g} at the end (above 0.5, other processes "
        "shared the cores)."
    )


def _output_lines(scenarios: dict[str, Any]) -> list[str]:
    """The shell-output memory runs (bench/output.py)."""
    runs = [
        (k, v) for k, v in scenarios.items() if k.startswith("shell_output_") and "seconds" in v
    ]
    if not runs:
        return []
    found = "; ".join(
        f"{name.removeprefix('shell_output_').removesuffix('_rss')}: "
        f"peak {v['peak_rss_mib']:g} MiB, {v['rss_after_end_mib']:g} MiB "
        f"after the end, {v['seconds']:g} s ({v['mb_per_s']:g} MB/s), "
        f"database {v['database_mb']} MB"
        for name, v in runs
    )
    return [
        "",
        "A shell task printing 1,000-byte lines, `python -m tercel server` subprocess, RSS from "
        f"/proc (VmHWM, VmRSS); {runs[0][1]['rss_at_start_mib']:g} MiB idle before the run: "
        f"{found}. Limit 150 MiB.",
    ]


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}"


def _api_lines(scenarios: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    idle = scenarios.get("api_idle_latency", {})
    if "p50_ms" in idle:
        lines += [
            "",
            f"Idle, {idle['runs']} sequential executions 50 ms apart: send->SUCCESS p50 "
            f"{idle['p50_ms']:.1f} ms, p99 {idle['p99_ms']:.1f} ms; send->answer of "
            f"`createExecution` p50 {idle['answer_p50_ms']:.1f} ms, p99 "
            f"{idle['answer_p99_ms']:.1f} ms.",
        ]
    rate = scenarios.get("api_executions_per_second", {})
    if rate.get("steps"):
        lines += [
            "",
            f"Executions/s steps ({rate['step_seconds']:g} s each, open loop, a `python -m tercel "
            "server` subprocess; latency = SUCCESS history date minus the client's send time; "
            "answer = send to `createExecution` answer; a failed step is offered a second time):",
            "",
            "| offered/s (attempt) | sent/s | created | errors | unfinished | failed | p50 ms "
            "| p99 ms | max ms | answer p50 ms | answer p99 ms | client CPU s "
            "| server CPU s (share of a core) | server CPU ms/execution | p99 <= 1 s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in rate["steps"]:
            lines.append(
                f"| {s['offered_per_s']} ({s.get('attempt', 1)}) | {s['sent_per_s']} "
                f"| {s['created']} | {s['errors']} "
                f"| {s['unfinished']} | {s['failed']} | {_ms(s['p50_ms'])} | {_ms(s['p99_ms'])} "
                f"| {_ms(s['max_ms'])} | {_ms(s['answer_p50_ms'])} | {_ms(s['answer_p99_ms'])} "
                f"| {s['client_cpu_s']} | {s.get('server_cpu_s')} ({s.get('server_cpu_share')}) "
                f"| {s.get('server_cpu_ms_per_execution')} | {'yes' if s['ok'] else 'no'} |"
            )
    page = scenarios.get("api_list_page", {})
    if "p50_ms" in page:
        lines += [
            "",
            f"List page ({page['executions']} executions x "
            f"{page['task_runs'] // page['executions']} Log tasks, {page['runs']} runs after 3 "
            f"warm-ups): p50 {page['p50_ms']:.1f} ms, p99 "
            f"{page['p99_ms']:.1f} ms over HTTP; {page['response_bytes'] / 1024:.0f} KiB per "
            f"answer; {page['statements']} SQL statements per query (the page, then one "
            "batched read per child table).",
        ]
    for count in (100, 1000):
        found = scenarios.get(f"delivery_{count}", {})
        if "p50" in found:
            client = "the `websockets` library" if found.get("client") == "websockets" else "lean"
            lines += [
                "",
                f"Delivery to {count} subscribers (`stateChanges` of one namespace, {client} "
                f"websocket clients in a separate process): p50 {found['p50']:.1f} ms, p99 "
                f"{found['p99']:.1f} ms over {found['deliveries']} deliveries in {found['runs']} "
                f"runs of {found['events_per_run']} events each, after "
                f"{found.get('warmups', 0)} unmeasured warm-up run(s).",
            ]
    return lines


def _sustained_lines(scenarios: dict[str, Any]) -> list[str]:
    run = scenarios.get("sustained_100k_task_runs", {})
    if "decile_task_runs_per_s" not in run:
        return []
    deciles = ", ".join(str(r) for r in run["decile_task_runs_per_s"])
    return [
        "",
        f"Sustained: {run['task_runs']:,} task runs in {run['total_s']:.1f} s "
        f"({run['task_runs_per_s']:.0f} task runs/s, {run['cpu_s']:.1f} s CPU); task runs/s per "
        f"tenth of the executions: {deciles}. RSS at the start "
        f"{run['start_rss_mb']:.0f} MiB, peak {run['peak_rss_mb']:.0f} MiB, final "
        f"{run['final_rss_mb']:.0f} MiB, second tenth {run['rss_second_decile_mb']:.0f} MiB -> "
        f"last tenth {run['rss_last_decile_mb']:.0f} MiB "
        f"({'flat' if run['memory_flat'] else 'growing'}). At the end: database "
        f"{run['db_mb']:.1f} MiB + WAL {run['wal_mb']:.1f} MiB = {run['db_plus_wal_mb']:.1f} MiB "
        f"= {_disk_mb(run) or 0:.0f} MB (goal <= {DISK_GOAL_MB} MB); {run['failures']} executions "
        "not in SUCCESS.",
    ]
