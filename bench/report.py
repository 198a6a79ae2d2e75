"""RESULTS.md: the figures next to the tiers of the performance issue and the peers' figures."""

from __future__ import annotations

from typing import Any

#: scenario -> (label, first tier, second tier, goal) in the scenario's unit; lower is better
TIERS: dict[str, tuple[str, float, float, float]] = {
    "chain_40": ("chain of 40 Return tasks", 110, 60, 40),
    "chain_40_worker_path": ("chain of 40 Sleep PT0S tasks (worker path)", 110, 60, 40),
    "foreach_1000_unbounded": ("ForEach over 1,000 values, concurrencyLimit 0", 500, 200, 100),
}

PEERS = (
    "Published figures for the chain of 40 light tasks (their hardware: 4-8 cores plus a database "
    "machine): Kestra 3.5 s, Hatchet 1.2 s, Temporal 0.76 s, Windmill 0.39 s, Prefect 3 (not "
    "durable per step) 0.14 s. Kestra OSS runs a ForEach at about 25 task runs/s."
)


def _tier(value: float, tiers: tuple[float, float, float]) -> str:
    first, second, goal = tiers
    if value <= goal:
        return "goal"
    if value <= second:
        return "second tier"
    if value <= first:
        return "first tier"
    return "below first tier"


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {m['cores']} cores, {m['processor']}, {m['platform']}; Python {m['python']}, "
        f"SQLite {m['sqlite']}; measured {m['date']}. Default settings: WAL, synchronous=FULL, "
        "every transition persisted. Figures are medians of several runs (min-max in brackets), "
        "taken from the engine's own state histories. Reproduce with `make bench`.",
        "",
        "| scenario | median | spread | tier (first / second / goal) |",
        "|---|---|---|---|",
    ]
    for name, data in results["scenarios"].items():
        label, *tiers = TIERS.get(name, (name, 0, 0, 0))
        tier = _tier(data["median"], (tiers[0], tiers[1], tiers[2])) if name in TIERS else ""
        if name in TIERS:
            tier += f" ({tiers[0]:g} / {tiers[1]:g} / {tiers[2]:g} {data['unit']})"
        lines.append(
            f"| {label} | {data['median']:.1f} {data['unit']} | "
            f"[{data['min']:.1f}-{data['max']:.1f}] | {tier} |"
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
    big = results["scenarios"].get("foreach_10000_unbounded", {})
    if "ratio_to_1000" in big:
        lines += [
            "",
            f"ForEach 10,000 costs {big['ratio_to_1000']:.1f}x the 1,000 case (limit: 12x).",
        ]
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
    return "\n".join(lines)
