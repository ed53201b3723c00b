"""Claude Code hook (PostToolUse on Edit, MultiEdit, Write): formats the Python file just edited
and applies ruff's safe fixes, with the project's own ruff and settings.

Unused imports (F401) are neither removed nor reported: an agent often adds the import in one
edit and the code that uses it in the next, and a hook that deletes it in between makes that
next edit fail. `make lint` still fails on an import that stays unused.

What ruff cannot fix is printed to stderr with exit status 2, which Claude Code hands back to
the agent, so a lint error is fixed while the file is still in mind rather than at `make lint`.
"""

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
RUFF = PROJECT / ".venv" / "bin" / "ruff"
FEEDBACK_TO_AGENT = 2
KEEP_IMPORTS = "F401"


def edited_python_file(event: dict[str, object]) -> Path | None:
    tool_input = event.get("tool_input")
    if not isinstance(tool_input, dict):
        return None
    path = Path(str(tool_input.get("file_path", ""))).resolve()
    if path.suffix != ".py" or not path.is_file() or not path.is_relative_to(PROJECT):
        return None
    return path


def main() -> int:
    path = edited_python_file(json.load(sys.stdin))
    if path is None:
        return 0
    if not RUFF.exists():
        sys.stderr.write("ruff is not installed yet: run `make install`\n")
        return 0
    # Fix everything but F401 (see above), then report what is left, F401 aside; RUF100 aside
    # too, since a noqa comment for F401 looks unused to a check that skips F401.
    fix = [RUFF, "check", "--fix", "--unfixable", KEEP_IMPORTS, "--exit-zero", "--quiet", path]
    subprocess.run(fix, cwd=PROJECT, capture_output=True, check=False)
    # After the fixes, so whatever they moved is laid out by the formatter.
    subprocess.run([RUFF, "format", "--quiet", path], cwd=PROJECT, check=False)
    check = subprocess.run(
        [RUFF, "check", "--ignore", f"{KEEP_IMPORTS},RUF100", "--quiet", path],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        sys.stderr.write(check.stdout + check.stderr)
        return FEEDBACK_TO_AGENT
    return 0


if __name__ == "__main__":
    sys.exit(main())
