"""`python -m tools.scaffold --name projects --fields "title:str done:bool" --owned yes`.

`make resource name=... fields=... owned=...` is the usual way in.
"""

import argparse
import sys
from pathlib import Path

from tools.scaffold.errors import SpecError
from tools.scaffold.spec import ResourceSpec, parse
from tools.scaffold.writer import GeneratedCodeError, write


def names_chosen(spec: ResourceSpec, *, overridden: bool) -> str:
    """What the resource is called in each place, shown before anything is written."""
    parameter = "{" + spec.singular + "_id}"  # the route's path parameter, braces included
    lines = [
        f'names: class {spec.model}, one {spec.singular} ("{spec.a_title}", route parameter '
        f"{parameter}), many {spec.name} (table, modules, /api/v1/{spec.name})"
    ]
    if not overridden:
        lines.append(
            "  (singular chosen by the inflect library; if it is wrong, add singular=<word>)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make resource", description=__doc__)
    parser.add_argument("--name", default="", help="plural snake_case, e.g. projects")
    parser.add_argument("--fields", default="", help='e.g. "title:str note:text? done:bool"')
    parser.add_argument("--owned", default="yes", help="yes (per-user rows) or no (shared)")
    parser.add_argument("--singular", default="", help="overrides the singular chosen: person")
    parser.add_argument("--cached", default="no", help="yes: the single-row read is cached")
    parser.add_argument(
        "--soft-delete", default="no", help="yes: deleting keeps the row, hidden (deleted_at)"
    )
    args = parser.parse_args(argv)
    project = Path.cwd()
    try:
        spec = parse(
            args.name,
            args.fields,
            args.owned,
            project,
            args.singular,
            cached=args.cached,
            soft_delete=args.soft_delete,
        )
        print(names_chosen(spec, overridden=bool(args.singular)))
        outputs = write(spec, project)
    except SpecError as error:
        print(f"make resource: {error}", file=sys.stderr)
        return 2
    except GeneratedCodeError as error:
        print(f"make resource: {error}", file=sys.stderr)
        return 1
    for output in outputs:
        print(f"wrote {output.path}")
    print(f"next: make migrate && make test ARGS=tests/api/test_{spec.name}.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
