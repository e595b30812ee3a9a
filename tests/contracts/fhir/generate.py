"""FHIR R4 resources drawn from the structure definitions, as `fhir.resources` (R4B) encodes them.

`fhir.resources` is generated from HL7's StructureDefinitions: each model field carries the element's
type, cardinality, whether it is required, its choice group (`value[x]`) and its code values. This
walks those models and draws JSON a conformant server could send: any subset of the optional elements,
one member per choice group, every data type nested to `depth`, coded elements with their defined
codes and (as FHIR's extensible bindings allow) others. Extensions and narratives are left out.
"""

from __future__ import annotations

import datetime as dt
import decimal
import typing
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from hypothesis import strategies as st
from pydantic import BaseModel

_SKIPPED = {"extension", "modifierExtension", "contained", "text", "fhir_comments", "meta", "implicitRules"}
_TEXT = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=12)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the element's type, whether it repeats) from `Optional[List[Annotated[...]]]` and friends."""
    repeats = False
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            lists = [a for a in args if typing.get_origin(a) in (list, typing.List)]  # noqa: UP006
            annotation = lists[0] if lists else args[0]
        elif origin in (list, typing.List):  # noqa: UP006
            repeats, annotation = True, args[0]
        elif origin is typing.Annotated:
            return (typing.get_args(annotation)[0], typing.get_args(annotation)[1:]), repeats
        else:
            return (annotation, ()), repeats


def _primitive(kind: Any, marks: tuple[Any, ...], codes: list[str]) -> st.SearchStrategy[Any] | None:
    name = type(marks[0]).__name__ if marks else ""
    if codes:
        defined = [c for c in codes if c != "+"]
        return st.sampled_from(defined) | _TEXT if "+" in codes else st.sampled_from(defined)
    if kind is bool:
        return st.booleans()
    if kind is int:
        return st.integers(-1000, 100_000)
    if kind is decimal.Decimal:
        return st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-1000, 1000)
    if kind is dt.datetime or name in ("DateTime", "Instant"):
        return st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)).map(
            lambda d: d.isoformat()
        )
    if kind is dt.date or name == "Date":
        return st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)).map(lambda d: d.isoformat())
    if kind is dt.time or name == "Time":
        return st.times().map(lambda t: t.replace(microsecond=0).isoformat())
    if kind is str:
        return _TEXT
    return None


def _model_of(kind: Any) -> type[BaseModel] | None:
    name = getattr(kind, "__name__", "")
    if name.endswith("Type") and name not in ("FHIRPrimitiveExtensionType",):
        try:
            model: type[BaseModel] = get_fhir_model_class(name[: -len("Type")])
        except (KeyError, ValueError):
            return None
        return model
    return None


def element(model: type[BaseModel], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """JSON for one instance of `model` (a resource or a data type)."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    choices: dict[str, dict[str, st.SearchStrategy[Any]]] = {}
    for name, field in model.model_fields.items():
        alias = field.alias or name
        if name.endswith("__ext") or alias in _SKIPPED or alias == "resourceType":
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        (kind, marks), repeats = _unwrap(field.annotation)
        codes = [str(c) for c in extra.get("enum_values", [])]  # type: ignore[union-attr]
        strategy = _primitive(kind, marks, codes)
        if strategy is None:
            nested = _model_of(kind)
            if nested is None or (depth <= 0 and not field.is_required()):
                continue
            strategy = st.deferred(lambda nested=nested: element(nested, depth - 1))
        if repeats:
            strategy = st.lists(strategy, min_size=1, max_size=2)
        group = extra.get("one_of_many")
        if group:
            choices.setdefault(str(group), {})[alias] = strategy
        elif field.is_required() or extra.get("element_required"):
            required[alias] = strategy
        else:
            optional[alias] = strategy

    @st.composite
    def draw(data: st.DrawFn) -> dict[str, Any]:
        out = {alias: data(strategy) for alias, strategy in required.items()}
        wanted = data(st.sets(st.sampled_from(sorted(optional)), max_size=8)) if optional else set()
        for alias in sorted(wanted):
            out[alias] = data(optional[alias])
        for members in choices.values():
            picked = data(st.none() | st.sampled_from(sorted(members)))
            if picked is not None:
                out[picked] = data(members[picked])
        return out

    return draw()


def resource(resource_type: str, depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """A `resource_type` resource (Patient, Observation...) as a server's JSON."""
    return element(get_fhir_model_class(resource_type), depth).map(lambda body: {"resourceType": resource_type, **body})
