"""The measurement plan: which routes, which baselines, how many alternating rounds."""

import statistics
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from bench.load import Result, Target, run_clients, run_load, run_probe

Measure = Callable[[], Result]


@dataclass(frozen=True, slots=True)
class Plan:
    rounds: int
    seconds: float
    connections: int
    login_connections: int
    probe_rate: float
    # The login spike of the production-events rows: this many clients logging in at once.
    storm_connections: int = 32


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
        "timeouts": sum(r.timeouts for r in results),
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


@contextmanager
def running_alongside(load: Callable[[], Result], into: list[Result]) -> Iterator[None]:
    """Runs `load` in a thread for the block (after a second to reach steady state)."""
    worker = threading.Thread(target=lambda: into.append(load()))
    worker.start()
    threading.Event().wait(1.0)
    try:
        yield
    finally:
        worker.join(timeout=120)


def _alone_then_during(
    measure: Measure,
    side_load: Measure,
    plan: Plan,
    condition: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """`measure` alone, then under `condition` while `side_load` runs, `plan.rounds` times.

    Returns the medians of: alone, during, and the side load itself.
    """
    alone: list[Result] = []
    during: list[Result] = []
    side: list[Result] = []
    for _ in range(plan.rounds):
        alone.append(measure())
        with condition(), running_alongside(side_load, side):
            during.append(measure())
    return _median(alone), _median(during), _median(side)


def probe_under_login(health: Target, login: Target, plan: Plan) -> dict[str, Any]:
    """Health p99 from a light paced probe, alone and while login (bcrypt) load runs."""
    alone, loaded, logins = _alone_then_during(
        lambda: run_probe(health, rate=plan.probe_rate, seconds=plan.seconds),
        lambda: run_load(login, connections=plan.login_connections, seconds=plan.seconds + 2),
        plan,
    )
    return {
        "route": "/health/live p99 under login load",
        "template": loaded,
        "baseline_name": "same probe, no login load",
        "baseline": alone,
        "ratio": loaded["p99_ms"] / alone["p99_ms"],
        "login_under_probe": logins,
    }


def throughput_under_login_storm(
    reads: Target, login: Target, plan: Plan, *, polite: bool
) -> dict[str, Any]:
    """A database read's throughput while `storm_connections` clients log in, against alone.

    `polite`: the clients wait as long as a 503's Retry-After says, as the service asks; otherwise
    wrk retries at once, a flood that only RATE_LIMIT_AUTH (switched off here) would stop.
    """
    generate = run_clients if polite else run_load
    alone, loaded, logins = _alone_then_during(
        lambda: run_load(reads, connections=plan.connections, seconds=plan.seconds),
        lambda: generate(login, connections=plan.storm_connections, seconds=plan.seconds + 2),
        plan,
    )
    return {
        "route": f"GET /api/v1/users/me while {plan.storm_connections} "
        + ("clients log in" if polite else "connections flood login, ignoring Retry-After"),
        "template": loaded,
        "baseline_name": "users/me alone",
        "baseline": alone,
        "ratio": loaded["rps"] / alone["rps"],
        # Refused logins (503 SERVER_BUSY) are expected; logins that time out are not.
        "logins": logins,
    }


class Pausable(Protocol):
    def pause(self) -> None: ...
    def resume(self) -> None: ...


def probe_with_redis_paused(
    health: Target, reads: Target, redis: Pausable, plan: Plan
) -> dict[str, Any]:
    """Health latency while rate-limited reads run against a paused (SIGSTOPped) Redis."""

    @contextmanager
    def paused() -> Iterator[None]:
        redis.pause()
        try:
            yield
        finally:
            redis.resume()

    alone, during, reads_paused = _alone_then_during(
        lambda: run_probe(health, rate=plan.probe_rate, seconds=plan.seconds),
        lambda: run_load(reads, connections=plan.connections, seconds=plan.seconds + 2),
        plan,
        paused,
    )
    return {
        "route": "/health/live with Redis paused",
        "template": during,
        "baseline_name": "same probe, Redis answering",
        "baseline": alone,
        "ratio": during["p99_ms"],
        "reads_while_paused": reads_paused,
    }
