"""Jinja filters that cookiecutter.json uses to derive and check answers while it asks them.

Cookiecutter loads this module (`_extensions`) with the template folder on `sys.path`, whether
the template comes from a path or from `gh:`. The rules themselves live in
`hooks/pre_gen_project.py`, loaded from beside this file, so there is one copy of them.
"""

import importlib.util
import json
import logging
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
    output_dir = answers.get("_output_dir")
    if output_dir is None:
        # cruft renders through cookiecutter's generate_files into a folder of its own choosing
        # (a fresh temporary one for `cruft update`) and sets no _output_dir: no bake to protect.
        return ""
    project = Path(str(output_dir)) / str(answers["project_slug"])
    force = os.environ.get(rules.FORCE_VARIABLE) == "1"
    refusal = rules.refuse_edited_rebake(project, force)
    if refusal is not None:
        raise OutputDirExistsException(f"ERROR: {refusal}")
    return ""


def template_choices(_answers: Mapping[str, Any]) -> str:
    """cookiecutter.json's questions that have a list of choices, as JSON, for the pre-gen hook."""
    questions = json.loads((Path(__file__).resolve().parent / "cookiecutter.json").read_text())
    return json.dumps(
        {
            name: value
            for name, value in questions.items()
            if isinstance(value, list) and not name.startswith("_")  # _extensions is no question
        }
    )


class OneLineHookFailure(logging.Filter):
    """Drops the traceback cookiecutter logs after a failed hook.

    Our hooks print what is wrong in one line before they exit 1; the traceback of the
    subprocess call that follows says nothing more. It shows with `--replay`, which skips the
    questions where a bad answer is otherwise refused.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info is not None and isinstance(record.exc_info[1], FailedHookException):
            record.exc_info = None
            record.exc_text = None
        return True


def _quiet_hook_failures() -> None:
    hooks_logger = logging.getLogger("cookiecutter.hooks")
    if not any(isinstance(found, OneLineHookFailure) for found in hooks_logger.filters):
        hooks_logger.addFilter(OneLineHookFailure())


class AnswersExtension(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        _quiet_hook_failures()
        environment.filters["derive_slug"] = rules.derive_slug
        environment.filters["refuse_bad_answers"] = refuse_bad_answers
        environment.filters["refuse_edited_rebake"] = refuse_edited_rebake
        environment.filters["template_choices"] = template_choices
