"""A bake takes a later template change with `cruft update`, whether it was created with cruft
or baked with plain cookiecutter and linked afterwards: the change arrives, the bake's own edits
survive, `.env` is not touched, `cruft check` passes, and the updated project's tests pass."""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import (
    GIT,
    TEMPLATE_ROOT,
    commit_all,
    passed_count,
    run,
    run_scoped_name,
    shared_venv,
    tool,
)

CRUFT = tool("cruft")
COOKIECUTTER = tool("cookiecutter")
NEW_FILE = "docs/template-news.md"
TEMPLATE_LINE = "Template change: the README gained this line in a later template commit."
OWN_LINE = "Our own note, written in the bake after it was created."
# The template's change names its new file in AGENTS.md; the bake grows a resource of its own.
AGENTS_LINE = f"- `{NEW_FILE}`: what changed in the template lately."
OWN_RESOURCE = ("notes", "title:str")
# Run-scoped names: the databases their test suites create are dropped when the run ends.
CREATED = run_scoped_name("Tpl Update Created")
LINKED = run_scoped_name("Tpl Update Linked")


@dataclass(frozen=True)
class TemplateRepo:
    path: Path
    first: str  # the commit the projects are baked from
    second: str  # the visible change


def template_files() -> list[str]:
    """The template as it stands, uncommitted edits included; ignored files (.venv ...) left out."""
    listing = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=TEMPLATE_ROOT
    )
    return [name for name in listing.stdout.splitlines() if (TEMPLATE_ROOT / name).is_file()]


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> TemplateRepo:
    repo = tmp_path_factory.mktemp("template") / "repo"
    for name in template_files():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE_ROOT / name, repo / name)
    run(["git", "init", "--quiet", "--initial-branch=main"], cwd=repo)
    first = commit_all(repo, "Template as it stands")
    baked = repo / "{{cookiecutter.project_slug}}"
    (baked / NEW_FILE).parent.mkdir(exist_ok=True)
    (baked / NEW_FILE).write_text("# News for {{ cookiecutter.project_name }}\n")
    with (baked / "README.md").open("a") as readme:
        readme.write(f"\n{TEMPLATE_LINE}\n")
    agents = baked / "AGENTS.md"
    agents.write_text(
        agents.read_text().replace("\n## Layout\n", f"\n{AGENTS_LINE}\n\n## Layout\n")
    )
    second = commit_all(repo, "A new file, named in AGENTS.md, and a README line")
    return TemplateRepo(repo, first, second)


def only_folder(parent: Path, *, besides: tuple[str, ...] = ()) -> Path:
    [folder] = [path for path in parent.iterdir() if path.is_dir() and path.name not in besides]
    return folder


def cruft_created(repo: TemplateRepo, out: Path) -> Path:
    run(
        [CRUFT, "create", str(repo.path), "--no-input", "--checkout", repo.first]
        + ["--output-dir", str(out), "--extra-context", json.dumps({"project_name": CREATED})],
        cwd=out,
    )
    return only_folder(out)


def cookiecutter_baked_then_linked(repo: TemplateRepo, out: Path) -> Path:
    """A plain cookiecutter bake of the first commit, linked the way the baked README says."""
    snapshot = out / "template-at-first-commit"
    run([*GIT, "worktree", "add", "--quiet", "--detach", str(snapshot), repo.first], cwd=repo.path)
    run(
        [COOKIECUTTER, "--no-input", "--output-dir", str(out), str(snapshot)]
        + [f"project_name={LINKED}"],
        cwd=out,
    )
    project = only_folder(out, besides=(snapshot.name,))
    recorded = (project / ".template-answers.json").read_text()
    run(
        [CRUFT, "link", str(repo.path), "--no-input", "--checkout", repo.first]
        + ["--extra-context", recorded],
        cwd=project,
    )
    return project


@pytest.mark.parametrize("origin", ["cruft-create", "cookiecutter-then-link"])
def test_cruft_update_brings_template_changes_and_keeps_local_edits(
    template_repo: TemplateRepo, tmp_path: Path, origin: str
) -> None:
    if origin == "cruft-create":
        project = cruft_created(template_repo, tmp_path)
    else:
        project = cookiecutter_baked_then_linked(template_repo, tmp_path)
    assert json.loads((project / ".cruft.json").read_text())["commit"] == template_repo.first
    run(["git", "init", "--quiet"], cwd=project)
    commit_all(project, "Bake")
    link_shared_venv(project)
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("## Quick start", f"{OWN_LINE}\n\n## Quick start"))
    resource, fields = OWN_RESOURCE
    run(["make", "resource", f"name={resource}", f"fields={fields}"], cwd=project)
    commit_all(project, "Our own edit and resource")
    env_before = (project / ".env").read_bytes()

    behind = run(["make", "template-check"], cwd=project, check=False)
    assert behind.returncode != 0
    assert "out of date" in behind.stdout + behind.stderr

    updated = run([CRUFT, "update", "--skip-apply-ask"], cwd=project)
    print(f"{origin}: cruft update\n{updated.stdout}{updated.stderr}")  # noqa: T201  (shown with -rP)

    name = CREATED if origin == "cruft-create" else LINKED
    assert (project / NEW_FILE).read_text() == f"# News for {name}\n"
    text = readme.read_text()
    assert TEMPLATE_LINE in text
    assert OWN_LINE in text
    assert (project / ".env").read_bytes() == env_before
    assert json.loads((project / ".cruft.json").read_text())["commit"] == template_repo.second
    status = run(["git", "status", "--porcelain"], cwd=project).stdout
    assert ".env" not in status
    assert "<<<<<<<" not in text
    assert not list(project.rglob("*.rej"))
    run(["make", "template-check"], cwd=project)
    run([CRUFT, "check"], cwd=project)
    agents = (project / "AGENTS.md").read_text()
    assert AGENTS_LINE in agents
    assert f"- `{resource}`: rows owned by a user" in agents
    checked = run(["make", "agents-check"], cwd=project)
    print(f"{origin}: {checked.stdout.strip()}")  # noqa: T201
    # The grown resource's API tests and the agent files' check, on the updated project: the
    # update changed docs, not code, and the whole suite of a bake with generated resources runs
    # in tests/test_resource.py.
    tests = run(
        [
            "make",
            "test",
            f"ARGS=-q -p no:cacheprovider tests/api/test_{resource}.py tests/test_agents_check.py",
        ],
        cwd=project,
    )
    assert passed_count(tests.stdout) > 10, tests.stdout
    print(f"{origin}: updated project, {passed_count(tests.stdout)} tests passed")  # noqa: T201


def link_shared_venv(project: Path) -> None:
    """The shared venv as the project's installed `.venv`, invisible to git (cruft wants a clean tree)."""
    shared = shared_venv(project)
    (project / ".venv").symlink_to(shared)
    (shared / ".installed").touch()
    with (project / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(".venv\n")
