"""The measurement plan: which routes, which baselines, how many alternating rounds."""

import statistics
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench.load import Result, Target, run_load, run_probe

Measure = Callable[[], Result]


@dataclass(frozen=True, slots=True)
class Plan:
    rounds: int
    seconds: float
    connections: int
    login_connections: int
    probe_rate: float


@dataclass(frozen=True, slots=True)
class Comparison:
    route: str
    template: Target
    baseline_name: str | None = None
    baseline: Target | None = None
    login: bool = False


def _median(results: list[Result]) -> dict[str, Any]:
    return {
        "rps": statistics.median(r.rps for r in results),
        "p50_ms": statistics.median(r.p50_ms for r in results),
        "p99_ms": statistics.median(r.p99_ms for r in results),
        "errors": sum(r.errors for r in results),
        "requests": sum(r.requests for r in results),
        "tool": results[0].tool,
        "rounds": [asdict(r) for r in results],
    }


def compare(item: Comparison, plan: Plan) -> dict[str, Any]:
    """Alternates template and baseline (ABAB, then BABA ...) so drift hits both alike."""
    connections = plan.login_connections if item.login else plan.connections
    sides: dict[str, list[Result]] = {"template": [], "baseline": []}
    targets = {"template": item.template, "baseline": item.baseline}
    for target in targets.values():  # warm-up, discarded
        if target is not None:
            run_load(target, connections=connections, seconds=1)
    for number in range(plan.rounds):
        order = ["template", "baseline"] if number % 2 == 0 else ["baseline", "template"]
        for side in order:
            target = targets[side]
            if target is not None:
                sides[side].append(run_load(target, connections=connections, seconds=plan.seconds))
    row: dict[str, Any] = {"route": item.route, "template": _median(sides["template"])}
    if sides["baseline"]:
        row["baseline_name"] = item.baseline_name
        row["baseline"] = _median(sides["baseline"])
        row["ratio"] = row["template"]["rps"] / row["baseline"]["rps"]
    return row


def probe_under_login(health: Target, login: Target, plan: Plan) -> dict[str, Any]:
    """Health p99 from a light paced probe, alone and while login (bcrypt) load runs."""
    alone: list[Result] = []
    loaded: list[Result] = []
    login_results: list[Result] = []

    def login_load() -> None:
        login_results.append(
            run_load(login, connections=plan.login_connections, seconds=plan.seconds + 2)
        )

    for _ in range(plan.rounds):
        alone.append(run_probe(health, rate=plan.probe_rate, seconds=plan.seconds))
        worker = threading.Thread(target=login_load)
        worker.start()
        threading.Event().wait(1.0)  # let the login load reach steady state first
        loaded.append(run_probe(health, rate=plan.probe_rate, seconds=plan.seconds))
        worker.join(timeout=plan.seconds + 30)
    alone_row, loaded_row = _median(alone), _median(loaded)
    return {
        "route": "/health/live p99 under login load",
        "template": loaded_row,
        "baseline_name": "same probe, no login load",
        "baseline": alone_row,
        "ratio": loaded_row["p99_ms"] / alone_row["p99_ms"],
        "login_under_probe": _median(login_results),
    }
