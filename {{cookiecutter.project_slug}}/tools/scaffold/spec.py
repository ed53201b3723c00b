"""What `make resource` was asked for, checked before anything is written.

A field is `name:type`, `name:type?` (optional, nullable) or `name:type:unique` (unique per
owner in an owned resource, across the table in a shared one). Every refusal
is a `SpecError` whose message fits on one line.
"""

import keyword
import re
from dataclasses import dataclass
from pathlib import Path

from tools.scaffold.errors import SpecError
from tools.scaffold.names import check_identifier, singular_of, with_article

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# PostgreSQL cuts identifiers at 63 bytes; constraint and index names grow from the table name.
IDENTIFIER_LIMIT = 63
# Fields the service sets itself, and why a field of that name cannot be added.
SERVICE_COLUMNS = ("id", "owner", "owner_id", "created_at", "updated_at")
RESERVED_FIELDS = {
    **dict.fromkeys(SERVICE_COLUMNS, "a column every resource already has"),
    "metadata": "SQLAlchemy's own attribute on every model",
    "registry": "SQLAlchemy's own attribute on every model",
    **dict.fromkeys(("sort", "limit", "offset", "q"), "a query parameter of the list route"),
    "not_nullable": "a class attribute of the generated update schema",
    "changes": "a method of the generated update schema",
}
RESOURCE_LAYERS = (
    "app/models",
    "app/schemas",
    "app/repositories",
    "app/services",
    "app/api/v1/endpoints",
)


@dataclass(frozen=True)
class FieldType:
    """How one field type appears in each layer the generator writes."""

    python: str  # annotation in the model and the read schema
    column: str  # SQLAlchemy type in the model
    migration: str  # the same type as Alembic renders it
    constraints: str  # pydantic Field(...) arguments of the input schemas
    example: str  # OpenAPI example, a Python literal of its JSON form
    filter: str  # "contains", "exact" or "range"
    sample: str  # test value: a Python expression of `n` (JSON-ready)
    invalid: str  # a JSON value the input schemas refuse, as a Python literal
    sortable: bool = True
    unique_allowed: bool = True


TYPES: dict[str, FieldType] = {
    "str": FieldType(
        python="str",
        column="String(200)",
        migration="sa.String(length=200)",
        constraints="min_length=1, max_length=200",
        example='"Example"',
        filter="contains",
        sample='f"{field} {n}"',
        invalid='"x" * 201',
    ),
    "text": FieldType(
        python="str",
        column="Text",
        migration="sa.Text()",
        constraints="max_length=5000",
        example='"A longer text."',
        filter="contains",
        sample='f"{field} text {n}"',
        invalid='"x" * 5001',
        sortable=False,
        unique_allowed=False,
    ),
    "int": FieldType(
        python="int",
        column="Integer",
        migration="sa.Integer()",
        constraints="ge=-2_147_483_648, le=2_147_483_647",
        example="42",
        filter="range",
        sample="n",
        invalid="2**31",
    ),
    "bool": FieldType(
        python="bool",
        column="Boolean",
        migration="sa.Boolean()",
        constraints="",
        example="True",
        filter="exact",
        sample="n % 2 == 0",
        invalid='"maybe"',
        unique_allowed=False,
    ),
    "decimal": FieldType(
        python="Decimal",
        column="Numeric(12, 2)",
        migration="sa.Numeric(precision=12, scale=2)",
        constraints="max_digits=12, decimal_places=2",
        example='"19.99"',
        filter="range",
        sample='f"{n}.25"',
        invalid='"1.234"',
    ),
    "date": FieldType(
        python="date",
        column="Date",
        migration="sa.Date()",
        constraints="",
        example='"2026-01-31"',
        filter="range",
        sample='f"2026-01-{n % 28 + 1:02d}"',
        invalid='"2026-13-01"',
    ),
    "datetime": FieldType(
        python="datetime",
        column="UTCDateTime",
        migration="sa.DateTime(timezone=True)",
        constraints="",
        example='"2026-01-31T09:30:00Z"',
        filter="range",
        sample='f"2026-01-{n % 28 + 1:02d}T09:30:00Z"',
        # No offset: its meaning would depend on the server's clock.
        invalid='"2026-01-31T09:30:00"',
    ),
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type_name: str
    optional: bool
    unique: bool

    @property
    def type(self) -> FieldType:
        return TYPES[self.type_name]

    @property
    def sample(self) -> str:
        return self.type.sample.replace("{field}", self.name.replace("_", " "))

    @property
    def filter_params(self) -> tuple[str, ...]:
        """The list query parameters this field adds."""
        if self.type.filter == "contains":
            return (f"{self.name}_contains",)
        if self.type.filter == "range":
            return (f"{self.name}_min", f"{self.name}_max")
        return (self.name,)

    @property
    def indexed(self) -> bool:
        """Bounded strings are looked up; unique columns get their index from the constraint."""
        return self.type_name == "str" and not self.unique


@dataclass(frozen=True)
class ResourceSpec:
    name: str  # plural snake_case: table, modules, URL
    singular: str
    fields: tuple[FieldSpec, ...]
    owned: bool
    # The single-row read goes through the cache (app/cache/); every write invalidates it.
    cached: bool = False
    # Deleting sets deleted_at; every query skips such rows; admins list, restore and purge them.
    soft_delete: bool = False
    # Owned rows in a project with app/events/: each committed write is announced to the owner.
    events: bool = False

    @property
    def model(self) -> str:
        return "".join(part.capitalize() for part in self.singular.split("_"))

    @property
    def title(self) -> str:
        return self.singular.replace("_", " ")

    @property
    def a_title(self) -> str:
        return with_article(self.title)

    @property
    def plural_title(self) -> str:
        return self.name.replace("_", " ")

    @property
    def types(self) -> frozenset[str]:
        return frozenset(field.type_name for field in self.fields)

    @property
    def unique_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(field for field in self.fields if field.unique)

    @property
    def sortable_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(field for field in self.fields if field.type.sortable)

    @property
    def required_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(field for field in self.fields if not field.optional)


def check_name(name: str, project: Path, singular: str = "") -> str:
    """The resource name, or SpecError; returns the singular (derived unless given)."""
    if not name:
        raise SpecError('name is missing: make resource name=projects fields="title:str"')
    if not SNAKE.match(name):
        raise SpecError(
            f"name '{name}' is not plural snake_case (lowercase letters, digits, single underscores)"
        )
    if singular and not SNAKE.match(singular):
        raise SpecError(f"singular '{singular}' is not snake_case (lowercase letters, digits)")
    check_identifier(name, name)
    existing = [layer for layer in RESOURCE_LAYERS if (project / layer / f"{name}.py").exists()]
    if existing or f'__tablename__ = "{name}"' in _model_sources(project):
        raise SpecError(f"resource '{name}' already exists ({', '.join(existing) or 'a table'})")
    singular = singular or singular_of(name)
    check_identifier(name, singular)
    longest = f"fk_{name}_owner_id_users"
    if len(longest) > IDENTIFIER_LIMIT:
        raise SpecError(f"name '{name}' is too long: database names built from it pass 63 bytes")
    return singular


def _model_sources(project: Path) -> str:
    return "\n".join(path.read_text() for path in sorted((project / "app/models").glob("*.py")))


def parse_field(text: str) -> FieldSpec:
    parts = text.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "unique"):
        raise SpecError(f"field '{text}' is not name:type, name:type? or name:type:unique")
    name, type_text = parts[0], parts[1]
    optional = type_text.endswith("?")
    type_name = type_text.removesuffix("?")
    if not SNAKE.match(name):
        raise SpecError(f"field name '{name}' is not lowercase snake_case")
    if keyword.iskeyword(name):
        raise SpecError(f"field name '{name}' cannot be used: it is a Python keyword")
    if name in RESERVED_FIELDS:
        raise SpecError(f"field name '{name}' is reserved: {RESERVED_FIELDS[name]}")
    if name.startswith("model_"):
        raise SpecError(f"field name '{name}' is reserved: pydantic keeps model_* for itself")
    if type_name not in TYPES:
        raise SpecError(
            f"field '{name}' has unknown type '{type_name}'; supported: {', '.join(TYPES)}"
        )
    unique = len(parts) == 3
    if unique and not TYPES[type_name].unique_allowed:
        raise SpecError(f"field '{name}': a {type_name} column cannot be unique")
    return FieldSpec(name=name, type_name=type_name, optional=optional, unique=unique)


def parse_fields(text: str, table: str, *, owned: bool) -> tuple[FieldSpec, ...]:
    fields = tuple(parse_field(part) for part in text.split())
    if not fields:
        raise SpecError('fields are missing: fields="title:str done:bool"')
    names = [field.name for field in fields]
    params = [param for field in fields for param in field.filter_params]
    for seen in (names, params):
        duplicates = sorted({name for name in seen if seen.count(name) > 1})
        if duplicates:
            raise SpecError(f"fields repeat or collide in list filters: {', '.join(duplicates)}")
    for field in fields:
        # An owned resource's unique constraint is per owner: uq_<table>_owner_id_<field>.
        owner_part = "owner_id_" if owned and field.unique else ""
        identifiers = (f"ix_{table}_{field.name}", f"uq_{table}_{owner_part}{field.name}")
        if any(len(identifier) > IDENTIFIER_LIMIT for identifier in identifiers):
            raise SpecError(f"field name '{field.name}' is too long for index names on '{table}'")
    return fields


def parse_owned(text: str) -> bool:
    return parse_yes_no("owned", text)


def parse_yes_no(option: str, text: str) -> bool:
    if text not in ("yes", "no"):
        raise SpecError(f"{option} must be yes or no, not '{text}'")
    return text == "yes"


def parse(
    name: str,
    fields: str,
    owned: str,
    project: Path,
    singular: str = "",
    *,
    cached: str = "no",
    soft_delete: str = "no",
) -> ResourceSpec:
    singular = check_name(name, project, singular)
    is_owned = parse_owned(owned)
    return ResourceSpec(
        name=name,
        singular=singular,
        fields=parse_fields(fields, name, owned=is_owned),
        owned=is_owned,
        cached=parse_yes_no("cached", cached),
        soft_delete=parse_yes_no("soft_delete", soft_delete),
        events=is_owned and (project / "app/events/hub.py").exists(),
    )
