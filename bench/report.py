"""Write the results: a Markdown table, a JSON file with ratios, and a bar chart of requests/s."""

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

Row = dict[str, Any]


def _fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def markdown(rows: list[Row], targets: list[Row], extras: dict[str, Any]) -> str:
    lines = [
        "| route | template req/s | p50 ms | p99 ms | baseline | baseline req/s | p50 ms | p99 ms | ratio |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        base = row.get("baseline") or {}
        lines.append(
            f"| {row['route']} | {_fmt(row['template']['rps'])} | {_fmt(row['template']['p50_ms'], '.2f')}"
            f" | {_fmt(row['template']['p99_ms'], '.2f')} | {row.get('baseline_name') or '-'}"
            f" | {_fmt(base.get('rps'))} | {_fmt(base.get('p50_ms'), '.2f')}"
            f" | {_fmt(base.get('p99_ms'), '.2f')} | {_fmt(row.get('ratio'), '.2f')} |"
        )
    lines += ["", "| target | measured | goal | met |", "|---|---:|---|---|"]
    for target in targets:
        met = "yes" if target["met"] else "NO"
        lines.append(f"| {target['name']} | {target['value']:.2f} | {target['goal']} | {met} |")
    lines += [""] + [f"- {key}: {value}" for key, value in extras.items()]
    return "\n".join(lines) + "\n"


def plot(rows: list[Row], path: Path) -> None:
    labels = [row["route"] for row in rows]
    template = [row["template"]["rps"] for row in rows]
    baseline = [(row.get("baseline") or {}).get("rps", 0.0) for row in rows]
    positions = range(len(rows))
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.bar([p - 0.2 for p in positions], template, width=0.4, label="template")
    ax.bar([p + 0.2 for p in positions], baseline, width=0.4, label="baseline (bare / by hand)")
    ax.set_xticks(list(positions), labels, rotation=15, ha="right")
    ax.set_ylabel("requests/s (median of rounds)")
    ax.set_title("Template vs baselines, 1 uvicorn worker, loopback")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_all(out: Path, rows: list[Row], targets: list[Row], extras: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(markdown(rows, targets, extras))
    payload = {"routes": rows, "targets": targets, **extras}
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=str))
    plot(rows, out / "requests_per_second.png")
