"""`python -m bench`: bake, serve the template and its baselines, load them, write the report.

Environment: BENCH_CONTEXT (cookiecutter key=value pairs, default: none), BENCH_ROUNDS,
BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_STORM_CONNECTIONS, BENCH_SKIP_SUITE=1 to skip timing the
baked test suite, BENCH_TEMPLATE to bake another checkout of the template (an earlier commit, to
measure "before").

Where the bake stores uploads on its local disk (the default), it also uploads a 100 MB file
(server memory, time against a plain copy) and an oversize chunked body (bench/uploads.py).
Where it has realtime events, it holds 1,000 idle SSE streams on the template's one worker
(memory, idle CPU) and times one change reaching all of them (bench/realtime.py).

Besides the hot-path ratios it plays two production events: a login spike (users/me throughput
while BENCH_STORM_CONNECTIONS clients log in) and, where the bake keeps its rate limits in Redis,
a stalled Redis (SIGSTOP: no reset, no answer) while rate-limited reads run.
"""

import os
import secrets
import sys
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from bench import calls, project, realtime, uploads
from bench.load import Target, wrk_available
from bench.measure import (
    Comparison,
    Plan,
    compare,
    probe_under_login,
    probe_with_redis_paused,
    throughput_under_login_storm,
)
from bench.report import write_all
from bench.seed import Seeded, fresh_token, seed
from bench.servers import RedisServer, Server, start_redis, start_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "artifacts" / "bench"
CACHED_READ = "GET /api/v1/items/{id} (cached)"


def _plan() -> Plan:
    return Plan(
        rounds=int(os.environ.get("BENCH_ROUNDS", "3")),
        seconds=float(os.environ.get("BENCH_SECONDS", "5")),
        connections=int(os.environ.get("BENCH_CONNECTIONS", "32")),
        login_connections=int(os.environ.get("BENCH_LOGIN_CONNECTIONS", "4")),
        probe_rate=float(os.environ.get("BENCH_PROBE_RATE", "100")),
        storm_connections=int(os.environ.get("BENCH_STORM_CONNECTIONS", "32")),
    )


def _template_env(baked: project.Baked, database_url: str) -> dict[str, str]:
    """Production defaults as baked (access log on, INFO, pool as shipped); only what the baked
    docs/operations.md's "Running in production" section also tells a deployer to set is changed here."""
    return {
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        # The database is on loopback: the baked docs' advice for a same-host database.
        "DB_SSL": "disable",
        # One load generator is one client address: its budget is the whole benchmark's. Limits
        # stay on (their cost is part of the template) but high enough never to trip; the login
        # limits too, or the login load turns into cheap 429s instead of bcrypt work.
        "RATE_LIMIT_DEFAULT": "100000000/minute",
        "RATE_LIMIT_AUTH": "100000000/minute",
        "RATE_LIMIT_LOGIN_ACCOUNT": "100000000/minute",
        # Production refuses the console email backend. Nothing listens on port 9: the seeded
        # user's verification email fails after the response (logged), costing nothing measured.
        "EMAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "9",
        # Production refuses a localhost frontend: the links in emails must reach users.
        "FRONTEND_URL": "https://app.example.com",
        # The baked defaults, stated because the hand-written baseline reads them.
        "JWT_ISSUER": baked.slug,
        "JWT_AUDIENCE": f"{baked.slug}-api",
        # Room for the 100 MB upload; a deployer sets the largest file their users need.
        "UPLOAD_MAX_BYTES": str(uploads.UPLOAD_MAX_BYTES),
        # The 1,000 streams are one user's, so one change reaches all of them: the per-user cap
        # (5 by default) must let them in. Each stream costs the same whoever holds it.
        "EVENTS_MAX_STREAMS_PER_USER": str(realtime.MAX_STREAMS_PER_USER),
    }


def _start_template(
    baked: project.Baked, env: dict[str, str], logs: Path, name: str = "template"
) -> Server:
    # Bakes before app/server.py (BENCH_TEMPLATE=<older checkout>) served app.main:app.
    factory = (baked.path / "app" / "server.py").exists()
    return start_server(name, "app.server:serve" if factory else "app.main:app",
                        cwd=baked.path, env=env, ready_path="/health/live",
                        log=logs / f"{name}.log", factory=factory)  # fmt: skip


BASELINES = ROOT / "bench" / "baselines"
HOT_PATHS = ("/api/v1/users/me", "/api/v1/items?limit=50")


def _environments(
    baked: project.Baked, database_url: str, redis: RedisServer | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The template's environment, and the hand-written baseline's (a plain postgresql:// DSN)."""
    env = _template_env(baked, database_url)
    if redis is not None:
        env["REDIS_URL"] = redis.url  # the bench's own Redis, which it pauses
    return env, {**env, "DATABASE_URL": database_url.replace("+asyncpg", "")}


def _start_all(
    baked: project.Baked, env: dict[str, str], manual_env: dict[str, str]
) -> list[Server]:
    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # The cache is on for the template (one worker: in memory bakes its default is off, as a
    # second process could not invalidate it); the same bake with it off is the cached read's
    # baseline, in the same run.
    return [
        _start_template(baked, {**env, "CACHE_ENABLED": "true"}, logs),
        start_server("bare", "bare_app:app", cwd=BASELINES, env={},
                     ready_path="/health/live", log=logs / "bare.log"),
        start_server("manual", "manual_app:app", cwd=BASELINES, env=manual_env,
                     ready_path="/api/v1/users/me", log=logs / "manual.log"),
        _start_template(baked, {**env, "CACHE_ENABLED": "false"}, logs, "uncached"),
    ]  # fmt: skip


def _measure(
    servers: list[Server], plan: Plan, seeded: Seeded, redis: RedisServer | None
) -> list[dict[str, Any]]:
    template, bare, manual, uncached = (server.base_url for server in servers)
    auth = {"Authorization": f"Bearer {seeded.access_token}"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    health = Target(f"{template}/health/live")
    login = Target(f"{template}/api/v1/auth/login", "POST", form, seeded.login_form)
    comparisons = [
        Comparison("/health/live", health, "bare FastAPI", Target(f"{bare}/health/live")),
        Comparison(
            "GET /api/v1/users/me",
            Target(f"{template}/api/v1/users/me", headers=auth),
            "by hand (jose + asyncpg)",
            Target(f"{manual}/api/v1/users/me", headers=auth),
        ),
        Comparison(
            "GET /api/v1/items?limit=50",
            Target(f"{template}/api/v1/items?limit=50", headers=auth),
            "by hand (jose + asyncpg)",
            Target(f"{manual}/api/v1/items?limit=50", headers=auth),
        ),
        Comparison(
            CACHED_READ,
            Target(f"{template}/api/v1/items/{seeded.item_id}", headers=auth),
            "same read, CACHE_ENABLED=false",
            Target(f"{uncached}/api/v1/items/{seeded.item_id}", headers=auth),
        ),
        Comparison("POST /api/v1/auth/login", login, login=True),
    ]  # fmt: skip
    rows = []
    for item in comparisons:
        print(f"measuring {item.route} ...", flush=True)
        rows.append(compare(item, plan))
    print("measuring /health/live under login load ...", flush=True)
    rows.append(probe_under_login(health, login, plan))
    me = comparisons[1].template
    for polite in (True, False):
        print(f"measuring users/me during a login spike (polite={polite}) ...", flush=True)
        rows.append(throughput_under_login_storm(me, login, plan, polite=polite))
    if redis is not None:
        print("measuring /health/live with Redis paused ...", flush=True)
        rows.append(probe_with_redis_paused(health, me, redis, plan))
    return rows


def _count_calls(
    baked: project.Baked, token: str, env: dict[str, str], manual_env: dict[str, str]
) -> str:
    """Python calls a request on each hot path, template against its baseline (bench/calls.py)."""
    template = calls.count("app.main:create_app()", ["/health/live", *HOT_PATHS],
                           cwd=baked.path, env=env, token=token)  # fmt: skip
    baseline = {
        **calls.count("bare_app:app", ["/health/live"], cwd=BASELINES, env={}, token=token),
        **calls.count(
            "manual_app:app", list(HOT_PATHS), cwd=BASELINES, env=manual_env, token=token
        ),
    }
    return "; ".join(
        f"{path} {template[path]:.0f} (baseline {baseline[path]:.0f}: {baseline[path] / template[path]:.2f})"
        for path in template
    )


def _errors(row: dict[str, Any]) -> int:
    """Non-2xx and socket errors on either side: a figure with any of them does not count.

    In a login spike, logins refused with 503 SERVER_BUSY are the design; a login that timed out
    is not, so those count against the row too.
    """
    logins_timed_out = int((row.get("logins") or {}).get("timeouts", 0))
    both_sides = int(row["template"]["errors"]) + int((row.get("baseline") or {}).get("errors", 0))
    return both_sides + logins_timed_out


def _targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_route = {row["route"]: row for row in rows}
    storm = next(route for route in by_route if route.endswith("clients log in"))
    checks = [
        ("/health/live req/s vs bare app", "/health/live", ">= 0.85", 0.85, True),
        ("users/me req/s vs by-hand", "GET /api/v1/users/me", ">= 0.4", 0.4, True),
        ("items?limit=50 req/s vs by-hand", "GET /api/v1/items?limit=50", ">= 0.4", 0.4, True),
        ("cached items/{id} req/s vs uncached", CACHED_READ, ">= 1.1", 1.1, True),
        ("health p99 under login / alone", "/health/live p99 under login load", "<= 3", 3.0, False),
        ("users/me req/s in a login spike / alone", storm, ">= 0.5", 0.5, True),
        ("health p99 ms, Redis paused", "/health/live with Redis paused", "<= 100", 100.0, False),
    ]  # fmt: skip
    targets = []
    for name, route, goal, limit, up in checks:
        if route not in by_route:  # the Redis row exists only where the bake uses Redis
            continue
        value, errors = by_route[route]["ratio"], _errors(by_route[route])
        met = (value >= limit if up else value <= limit) and not errors
        targets.append(
            {"name": name, "value": value, "goal": goal, "limit": limit, "errors": errors,
             "higher_is_better": up, "met": met}
        )  # fmt: skip
    return targets


def _uploads_on_disk(baked: project.Baked) -> bool:
    api = baked.path / "app" / "api" / "v1" / "endpoints" / "attachments.py"
    return api.exists() and (baked.path / "app" / "storage" / "local.py").exists()


def _measure_uploads(baked: project.Baked, template: Server) -> dict[str, Any]:
    print("measuring a 100 MB upload and an oversize one ...", flush=True)
    token = fresh_token(template.base_url)
    storage = baked.path / "var" / "uploads"  # LOCAL_STORAGE_DIR as baked, relative to the server
    return uploads.measure(template.base_url, template.process.pid, token, storage, OUT)


def _realtime_baked(baked: project.Baked) -> bool:
    return (baked.path / "app" / "events" / "hub.py").exists()


def _measure_realtime(template: Server) -> dict[str, Any]:
    print(f"measuring {realtime.STREAMS} idle event streams and one change to all ...", flush=True)
    token = fresh_token(template.base_url)
    return realtime.measure(template.base_url, template.process.pid, token)


def main() -> int:
    plan = _plan()
    cache = ROOT / ".cache"
    template = Path(os.environ.get("BENCH_TEMPLATE", ROOT))
    baked = project.bake(template, cache / "bench-bake", os.environ.get("BENCH_CONTEXT", ""))
    print(f"baked {baked.slug} in {baked.seconds:.2f}s", flush=True)
    project.install_dependencies(baked.path, cache)
    database_url = project.fresh_database(baked)
    OUT.mkdir(parents=True, exist_ok=True)
    redis = start_redis(OUT / "redis.log") if project.uses_redis(baked) else None
    upload: dict[str, Any] | None = None
    events: dict[str, Any] | None = None
    try:
        env, manual_env = _environments(baked, database_url, redis)
        servers = _start_all(baked, env, manual_env)
        try:
            seeded = seed(servers[0].base_url, partial(project.mark_verified, baked))
            call_counts = _count_calls(baked, seeded.access_token, env, manual_env)
            rows = _measure(servers, plan, seeded, redis)
            if _uploads_on_disk(baked):
                upload = _measure_uploads(baked, servers[0])
            if _realtime_baked(baked):
                events = _measure_realtime(servers[0])
        finally:
            for server in servers:
                server.stop()
    finally:
        if redis is not None:
            redis.stop()
    extras: dict[str, Any] = {
        "python_calls_a_request": call_counts,
        "load_generator": "wrk" if wrk_available() else "python fallback",
        "plan": asdict(plan),
        "bake_seconds": round(baked.seconds, 2),
        "cpu_count": os.cpu_count(),
    }
    if os.environ.get("BENCH_SKIP_SUITE") != "1":
        seconds, summary = project.run_suite(baked)
        extras["test_suite_seconds"] = round(seconds, 1)
        extras["test_suite_result"] = summary
    targets = _targets(rows)
    if upload is not None:
        extras["uploads"] = upload
        targets += uploads.targets(upload)
    if events is not None:
        extras["realtime"] = events
        targets += realtime.targets(events)
    write_all(OUT, rows, targets, extras)
    print((OUT / "results.md").read_text())
    print(f"plot: {OUT / 'targets_and_latency.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
