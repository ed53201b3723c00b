"""Write the results: a Markdown table, a JSON file, and a plot of targets and latencies."""

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

Row = dict[str, Any]


def _fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


# Loads that ran beside a measured route, reported under the table.
SIDE_LOADS = {"logins": "logins meanwhile", "reads_while_paused": "users/me meanwhile"}


def _side_loads(row: Row) -> list[str]:
    return [
        f"- {row['route']}: {label}: {_fmt(row[key]['rps'])} req/s, p99"
        f" {_fmt(row[key]['p99_ms'], '.0f')} ms, {row[key]['errors']} non-2xx or socket errors"
        f" ({row[key]['timeouts']} timeouts) in {row[key]['requests']} requests"
        for key, label in SIDE_LOADS.items()
        if key in row
    ]


def markdown(rows: list[Row], targets: list[Row], extras: dict[str, Any]) -> str:
    lines = [
        "| route | template req/s | p50 ms | p99 ms | baseline | baseline req/s | p50 ms | p99 ms | ratio | errors |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        base = row.get("baseline") or {}
        lines.append(
            f"| {row['route']} | {_fmt(row['template']['rps'])} | {_fmt(row['template']['p50_ms'], '.2f')}"
            f" | {_fmt(row['template']['p99_ms'], '.2f')} | {row.get('baseline_name') or '-'}"
            f" | {_fmt(base.get('rps'))} | {_fmt(base.get('p50_ms'), '.2f')}"
            f" | {_fmt(base.get('p99_ms'), '.2f')} | {_fmt(row.get('ratio'), '.2f')}"
            f" | {row['template']['errors'] + base.get('errors', 0)} |"
        )
    lines += [line for row in rows for line in _side_loads(row)]
    lines += ["", "| target | measured | goal | met |", "|---|---:|---|---|"]
    for target in targets:
        met = "yes" if target["met"] else "NO"
        if target["errors"]:
            met += f" (not counted: {target['errors']} non-2xx or socket errors)"
        lines.append(f"| {target['name']} | {target['value']:.2f} | {target['goal']} | {met} |")
    lines += [""] + [f"- {key}: {value}" for key, value in extras.items()]
    return "\n".join(lines) + "\n"


def plot(rows: list[Row], targets: list[Row], path: Path) -> None:
    """Left: each target's measured ratio against its own goal. Right: latencies, in ms."""
    fig, (goals, latency) = plt.subplots(1, 2, figsize=(14, 5.5))
    _plot_targets(goals, targets)
    _plot_latencies(latency, rows)
    fig.suptitle("Template vs baselines, 1 uvicorn worker each, loopback (medians of rounds)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_targets(ax: Any, targets: list[Row]) -> None:
    positions = list(range(len(targets)))
    colours = ["tab:green" if t["met"] else "tab:red" for t in targets]
    ax.bar(positions, [t["value"] for t in targets], width=0.6, color=colours)
    for x, target in zip(positions, targets, strict=True):
        ax.hlines(target["limit"], x - 0.4, x + 0.4, colors="black", linestyles="--")
        ax.annotate(f"{target['value']:.2f} (goal {target['goal']})", (x, target["value"]),
                    ha="center", va="bottom", fontsize=8)  # fmt: skip
    ax.set_xticks(positions, [t["name"] for t in targets], rotation=15, ha="right", fontsize=8)
    ax.set_ylabel("ratio (dashed line: goal; green met, red missed)")
    ax.set_title("Targets")


def _plot_latencies(ax: Any, rows: list[Row]) -> None:
    series = [("template", "p50_ms"), ("template", "p99_ms"), ("baseline", "p50_ms"), ("baseline", "p99_ms")]  # fmt: skip
    width = 0.2
    positions = range(len(rows))
    for offset, (side, key) in enumerate(series):
        values = [(row.get(side) or {}).get(key, 0.0) for row in rows]
        shifted = [p + (offset - 1.5) * width for p in positions]
        ax.bar(shifted, values, width=width, label=f"{side} {key.removesuffix('_ms')}")
    ax.set_yscale("log")
    ax.set_xticks(
        list(positions), [row["route"] for row in rows], rotation=15, ha="right", fontsize=8
    )
    ax.set_ylabel("latency, ms (log scale)")
    ax.set_title("Latency per route (baseline: bare / by hand / no login load)")
    ax.legend(fontsize=8)


def write_all(out: Path, rows: list[Row], targets: list[Row], extras: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(markdown(rows, targets, extras))
    payload = {"routes": rows, "targets": targets, **extras}
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=str))
    plot(rows, targets, out / "targets_and_latency.png")
