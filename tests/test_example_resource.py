"""Items, the example resource, is what `make resource` writes for its fields.

A bake without the example resource regenerates Items with `make resource` and the Items spec;
every file the generator writes or edits must then equal the shipped bake's, byte for byte. A
hand edit to Items (or a template change not regenerated into Items) fails here: change the
templates in `tools/scaffold/`, then copy their output over the Items files.

Both bakes answer file_storage=none: attachments (file_storage=local or s3) are a resource of
their own that references Items, in modules of their own, wired by a line or two into the same
wiring files the generator edits. Those lines are not the generator's, so they stay out of the
comparison; the Items files themselves are the same for every file_storage answer.
"""

import difflib
import re
import shutil
from pathlib import Path

from tests.conftest import Baker
from tests.test_hooks import load_hook
from tests.test_resource import make_ready, make_resource

# make resource name=items fields="title:str description:text?" owned=yes cached=yes
ITEMS_NAME, ITEMS_FIELDS, ITEMS_OWNED = "items", "title:str description:text?", "yes"
# The single-item read shows the cache; soft delete stays off (see the scaffold's README recipe).
ITEMS_OPTIONS = {"cached": "yes"}
# The generator stamps the day it ran; the shipped migration keeps the day it was written.
CREATE_DATE = re.compile(r"^Create Date: .*$", re.MULTILINE)
# AGENTS.md differs with example_resource elsewhere; the generator writes only its resources list.
RESOURCES_LIST = re.compile(
    r"^<!-- resources: .*?^<!-- resources: end -->$", re.MULTILINE | re.DOTALL
)
FIRST_MIGRATION = "0001_"


def regenerate_items(project: Path, parked: Path) -> list[str]:
    """Runs `make resource` for Items; returns the paths it wrote or edited.

    The migrations after 0001 are parked meanwhile: the shipped Items migration is 0002 and
    follows 0001, and the generator numbers a new one after the single head it finds.
    """
    versions = project / "alembic" / "versions"
    later = [path for path in versions.glob("*.py") if not path.name.startswith(FIRST_MIGRATION)]
    parked.mkdir()
    for path in later:
        shutil.move(path, parked / path.name)
    try:
        output = make_resource(
            project, ITEMS_NAME, ITEMS_FIELDS, ITEMS_OWNED, options=ITEMS_OPTIONS
        )
    finally:
        for path in later:
            shutil.move(parked / path.name, path)
    return [
        line.removeprefix("wrote ") for line in output.splitlines() if line.startswith("wrote ")
    ]


def resources_list(agents_md: str) -> str:
    found = RESOURCES_LIST.search(agents_md)
    assert found is not None, "AGENTS.md has no resources list"
    return found.group(0)


def differences(shipped_project: Path, generated_project: Path, relative: str) -> str:
    """A unified diff of one file between the two bakes, empty when they are equal."""
    shipped_text = (shipped_project / relative).read_text()
    generated_text = (generated_project / relative).read_text()
    if relative == "AGENTS.md":
        shipped_text, generated_text = (
            resources_list(text) for text in (shipped_text, generated_text)
        )
    if relative.startswith("alembic/versions/"):
        date = CREATE_DATE.search(shipped_text)
        assert date is not None, relative
        generated_text = CREATE_DATE.sub(date.group(0), generated_text)
    lines = difflib.unified_diff(
        shipped_text.splitlines(keepends=True),
        generated_text.splitlines(keepends=True),
        fromfile=f"shipped {relative}",
        tofile=f"generated {relative}",
    )
    return "".join(lines)


def test_items_are_exactly_what_make_resource_writes(
    bake: Baker, default_project: Path, tmp_path: Path
) -> None:
    shipped = bake(project_name="Tpl Items Shipped", file_storage="none")
    project = bake(
        project_name="Tpl Items Regenerated", example_resource=False, file_storage="none"
    )
    make_ready(project)
    written = regenerate_items(project, tmp_path / "parked")
    # What the answer example_resource=no removes is exactly what the generator writes: no
    # hand-written Items file lives beside the generated ones.
    wiring = {"app/main.py", "app/models/__init__.py", "app/api/deps.py", "app/api/v1/router.py"}
    wiring.add("AGENTS.md")  # its resources list gains the resource's line
    items_paths = set(load_hook("post_gen_project").ITEMS_PATHS)
    assert set(written) == items_paths | wiring
    diffs = [differences(shipped, project, path) for path in sorted(written)]
    assert not any(diffs), "Items differs from make resource's output:\n" + "".join(diffs)
    items_diffs = [differences(default_project, project, path) for path in sorted(items_paths)]
    assert not any(items_diffs), "Items differ with attachments:\n" + "".join(items_diffs)
