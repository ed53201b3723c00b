"""Jinja filters that cookiecutter.json uses to derive and check answers while it asks them.

Cookiecutter loads this module (`_extensions`) with the template folder on `sys.path`, whether
the template comes from a path or from `gh:`. The rules themselves live in
`hooks/pre_gen_project.py`, loaded from beside this file, so there is one copy of them.
"""

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from cookiecutter.exceptions import FailedHookException, OutputDirExistsException
from jinja2 import Environment
from jinja2.ext import Extension


def _load_rules() -> ModuleType:
    path = Path(__file__).resolve().parent / "hooks" / "pre_gen_project.py"
    spec = importlib.util.spec_from_file_location("_template_answer_rules", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rules = _load_rules()


def refuse_bad_answers(answers: Mapping[str, Any]) -> str:
    """Stops cookiecutter at once on a bad answer given so far; renders as nothing otherwise.

    Cookiecutter's command line prints a FailedHookException as its bare message and exits 1,
    with no traceback, and nothing has been written yet.
    """
    found = rules.known_problems(answers)
    if found:
        raise FailedHookException("\n".join(f"ERROR: {message}" for message in found))
    return ""


def refuse_edited_rebake(answers: Mapping[str, Any]) -> str:
    """Runs while the pre-gen hook is rendered, after the folder exists and before any file is
    written. Cookiecutter prints an OutputDirExistsException as one line, exits 1 and, unlike a
    failed hook, never deletes the folder."""
    project = Path(str(answers["_output_dir"])) / str(answers["project_slug"])
    force = os.environ.get(rules.FORCE_VARIABLE) == "1"
    refusal = rules.refuse_edited_rebake(project, force)
    if refusal is not None:
        raise OutputDirExistsException(f"ERROR: {refusal}")
    return ""


class AnswersExtension(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["derive_slug"] = rules.derive_slug
        environment.filters["refuse_bad_answers"] = refuse_bad_answers
        environment.filters["refuse_edited_rebake"] = refuse_edited_rebake
