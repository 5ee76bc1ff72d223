"""Flatten the metadata replies (API reference §4.5) into typed rows, with the standard library.

Dimensions, saved filters, KPIs and the (group-by) discovery replies are small lists of objects.
Each becomes one row per item (per endpoint path for discovery) with a fixed set of columns, and
each column has one type: text, true/false, or integers (an ``id``; ids that mix numbers and
text are all read as text, so one column still holds them). A field of another type (a list or
object where text belongs, an integer beyond 64 bits) reads as None and is counted in the notes,
so records, pandas and polars show the same table and none of them fails on it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pyconviva._results.tidy import ReplyShapeError
from pyconviva._results.values import Notes, fits_int64

__all__ = ["METADATA_KINDS", "ColumnType", "MetadataTable", "tidy_metadata"]

METADATA_KINDS = ("dimensions", "filters", "kpis", "endpoints", "group-by-endpoints")

ColumnType = Literal["text", "flag", "integer"]
_Expected = Literal["text", "flag", "id"]  # "id": whole numbers or text, resolved per reply

_ITEM_COLUMNS: Mapping[str, tuple[tuple[str, _Expected], ...]] = {
    "dimensions": (
        ("name", "text"),
        ("query_filter", "text"),
        ("is_custom", "flag"),
        ("group_by", "text"),
    ),
    "filters": (("id", "id"), ("name", "text")),
    "kpis": (("id", "id"), ("name", "text")),
}
_ENDPOINT_COLUMNS: tuple[tuple[str, _Expected], ...] = (
    ("section", "text"),
    ("resource_name", "text"),
    ("methods", "text"),
    ("path", "text"),
)
_DESCRIBED: Mapping[_Expected, str] = {
    "text": "text",
    "flag": "true or false",
    "id": "whole numbers or text",
}


@dataclass(frozen=True)
class MetadataTable:
    kind: str
    column_names: tuple[str, ...]
    column_types: tuple[ColumnType, ...]
    rows: list[tuple[Any, ...]]
    notes: tuple[str, ...]


def tidy_metadata(raw: Mapping[str, Any], kind: str) -> MetadataTable:
    """Flatten a dimensions, filters, kpis or (group-by) endpoints reply into rows.

    Items that are not objects are skipped, fields of another type read as None (both noted);
    missing fields read as None.

    Raises:
        ReplyShapeError: not an object, or the list the kind is built on is missing.
    """
    if not isinstance(raw, Mapping):
        raise ReplyShapeError(f"the reply is a JSON {type(raw).__name__}, not an object")
    notes = Notes()
    if kind in _ITEM_COLUMNS:
        columns = _ITEM_COLUMNS[kind]
        placed = [
            (f"{kind}[{index}]", [item.get(name) for name, _ in columns])
            for index, item in _items(raw, kind, notes)
        ]
    else:
        columns = _ENDPOINT_COLUMNS
        placed = list(_endpoint_rows(raw, notes))
    return _typed(kind, columns, placed, notes)


def _endpoint_rows(raw: Mapping[str, Any], notes: Notes) -> Iterator[tuple[str, list[Any]]]:
    for section in ("resources", "references"):
        if section == "references" and section not in raw:
            continue  # group-by discovery replies carry resources only
        for index, resource in _items(raw, section, notes):
            endpoints = resource.get("endpoints")
            for number, endpoint in enumerate(endpoints if isinstance(endpoints, list) else ()):
                where = f"{section}[{index}].endpoints[{number}]"
                if not isinstance(endpoint, dict):
                    notes.skip("endpoint entries that are not objects", where)
                    continue
                methods = endpoint.get("methods")
                if isinstance(methods, list) and all(type(m) is str for m in methods):
                    methods = ",".join(methods)
                yield where, [section, resource.get("resource_name"), methods, endpoint.get("path")]


def _fits(expected: _Expected, value: object) -> bool:
    kind = type(value)
    if expected == "flag":
        return kind is bool
    if expected == "id" and kind is int:
        return fits_int64(value)  # type: ignore[arg-type]
    return kind is str


def _typed(
    kind: str,
    columns: Sequence[tuple[str, _Expected]],
    placed: list[tuple[str, list[Any]]],
    notes: Notes,
) -> MetadataTable:
    """Null (and note) each field its column cannot hold; ids mixing numbers and text -> text."""
    for where, cells in placed:
        for position, (name, expected) in enumerate(columns):
            value = cells[position]
            if value is not None and not _fits(expected, value):
                notes.skip(f"`{name}` values that are not {_DESCRIBED[expected]}", where)
                cells[position] = None
    types: list[ColumnType] = []
    for position, (_, expected) in enumerate(columns):
        if expected != "id":
            types.append(expected)
            continue
        if any(type(cells[position]) is str for _, cells in placed):
            for _, cells in placed:
                if cells[position] is not None:
                    cells[position] = str(cells[position])
            types.append("text")
        else:
            types.append("integer")
    return MetadataTable(
        kind,
        tuple(name for name, _ in columns),
        tuple(types),
        [tuple(cells) for _, cells in placed],
        notes.render(),
    )


def _items(raw: Mapping[str, Any], key: str, notes: Notes) -> Iterator[tuple[int, dict[str, Any]]]:
    items = raw.get(key)
    if not isinstance(items, list):
        raise ReplyShapeError(f"the reply has no `{key}` list")
    for index, item in enumerate(items):
        if isinstance(item, dict):
            yield index, item
        else:
            notes.skip(f"`{key}` entries that are not objects", key)
