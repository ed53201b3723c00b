import re
from pathlib import Path

from tests.conftest import PROJECT_ROOT

# Wall-clock readings other than app/core/clock.py's; monotonic timers are not wall clocks.
OTHER_CLOCKS = re.compile(r"datetime\.(now|utcnow|today)\(|\btime\.time\(|\bdate\.today\(")
CLOCK = Path("app/core/clock.py")


def test_every_wall_clock_reading_in_app_goes_through_the_clock() -> None:
    readings = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for path in sorted((PROJECT_ROOT / "app").rglob("*.py"))
        if path.relative_to(PROJECT_ROOT) != CLOCK
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if OTHER_CLOCKS.search(line)
    ]
    assert readings == []
