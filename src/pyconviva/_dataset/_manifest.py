"""The dataset's manifest, ``_manifest.json``: what is done, and what the next run needs to know.

It lists the ranges asked for so far (oldest first), each unit written (by its file's relative
path) and whether that unit had settled, and each query's reply-size estimate, so that a rerun
plans the windows the interrupted run would have. It is replaced atomically after each batch.

Read strictly: anything that is not a manifest this module wrote (a wrong type anywhere, deep
nesting, an unknown version) is a :class:`ManifestError` naming the file, before any request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pyconviva._dataset._units import ExportUnit
from pyconviva._exceptions import ConvivaError, QueryError
from pyconviva._files import atomic_path
from pyconviva._rules import format_instant, parse_instant

__all__ = ["MANIFEST_NAME", "Manifest", "ManifestError"]

MANIFEST_NAME = "_manifest.json"  # a leading "_": dataset readers skip it
# 1: ranges and units (every unit done). 2: adds each unit's "settled" and the queries' reply-size
# "estimates"; a version-1 manifest is read as one whose units all settled.
_VERSION = 2
_READABLE_VERSIONS = (1, 2)


class ManifestError(ConvivaError):
    """The dataset's manifest cannot be used: damaged, unreadable, or not pyconviva's."""


@dataclass
class Manifest:
    """The units written (by relative path), the ranges requested so far (oldest first), and
    each query's estimated reply bytes per bucket (by file stem)."""

    granularity: str
    ranges: list[tuple[datetime, datetime]] = field(default_factory=list)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)
    estimates: dict[str, float] = field(default_factory=dict)

    def is_done(self, unit: ExportUnit) -> bool:
        """Whether ``unit`` is written with settled data: never fetched again."""
        entry = self.units.get(unit.path)
        return entry is not None and bool(entry["settled"])

    def record(self, unit: ExportUnit, *, rows: int, notes: tuple[str, ...], settled: bool) -> None:
        self.units[unit.path] = {
            "query": unit.query.stem,
            "start": format_instant(unit.start),
            "end": format_instant(unit.end),
            "rows": rows,
            "notes": list(notes),
            "settled": settled,
        }

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": _VERSION,
                "granularity": self.granularity,
                "ranges": [[format_instant(s), format_instant(e)] for s, e in self.ranges],
                "units": self.units,
                "estimates": self.estimates,
            },
            indent=1,
            sort_keys=True,
        )

    def save(self, path: Path) -> None:
        with atomic_path(path) as temporary:
            temporary.write_text(self.to_json(), "utf-8")

    @classmethod
    def read(cls, path: Path, granularity: str) -> Manifest:
        """The manifest at ``path`` (an empty one if there is none) for a dataset of
        ``granularity``; ``QueryError`` if the dataset has another granularity."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(granularity)
        except (OSError, UnicodeDecodeError) as exc:
            raise _damaged(path, f"cannot be read ({exc})") from exc
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            # RecursionError: JSON nested deeper than the parser goes.
            raise _damaged(path, "not JSON, or nested too deeply") from exc
        manifest = _parse(path, data)
        if manifest.granularity != granularity:
            raise QueryError(
                f"granularity={granularity!r}, but the dataset in {path.parent} was exported "
                f"with {manifest.granularity!r}; use that granularity or another directory",
                argument="granularity",
            )
        return manifest


def _damaged(path: Path, problem: str) -> ManifestError:
    return ManifestError(
        f"manifest damaged: {path}: {problem}. Delete it to start over (the next export fetches "
        "every unit again and rewrites its files), or restore it from a copy"
    )


class _Invalid(Exception):
    """What is wrong with a manifest's content, for the message."""


def _parse(path: Path, data: object) -> Manifest:
    try:
        document = _object(data, "the document")
        version = document.get("version")
        if version not in _READABLE_VERSIONS or isinstance(version, bool):
            raise _Invalid(f"version {version!r} is not one this pyconviva reads (1 or 2)")
        granularity = document.get("granularity")
        if not isinstance(granularity, str):
            raise _Invalid("granularity is not a string")
        ranges = [_range(item, f"ranges[{i}]") for i, item in enumerate(_list(document, "ranges"))]
        units = {
            _text(key, "a unit's path"): _unit(entry, f"units[{key!r}]", version)
            for key, entry in _object(document.get("units"), "units").items()
        }
        estimates = {
            _text(key, "an estimate's query"): _estimate(value, f"estimates[{key!r}]")
            for key, value in _object(document.get("estimates", {}), "estimates").items()
        }
    except _Invalid as exc:
        raise _damaged(path, str(exc)) from None
    return Manifest(granularity, ranges, units, estimates)


def _object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(f"{name} is not an object")
    return value


def _list(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    if not isinstance(value, list):
        raise _Invalid(f"{key} is not a list")
    return value


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{name} is not a string")
    return value


def _instant(value: object, name: str) -> datetime:
    try:
        return parse_instant(_text(value, name))
    except ValueError as exc:
        raise _Invalid(f"{name}: {exc}") from None


def _range(item: object, name: str) -> tuple[datetime, datetime]:
    if not isinstance(item, list) or len(item) != 2:
        raise _Invalid(f"{name} is not a [start, end] pair")
    start, end = _instant(item[0], f"{name}[0]"), _instant(item[1], f"{name}[1]")
    if not start < end:
        raise _Invalid(f"{name} does not start before it ends")
    return start, end


def _unit(entry: object, name: str, version: int) -> dict[str, Any]:
    unit = dict(_object(entry, name))
    if version == 1:
        unit.setdefault("settled", True)  # version 1 recorded finished units only
    _text(unit.get("query"), f"{name}.query")
    _instant(unit.get("start"), f"{name}.start")
    _instant(unit.get("end"), f"{name}.end")
    rows = unit.get("rows")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise _Invalid(f"{name}.rows is not a count")
    notes = unit.get("notes")
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise _Invalid(f"{name}.notes is not a list of strings")
    if not isinstance(unit.get("settled"), bool):
        raise _Invalid(f"{name}.settled is not true or false")
    return unit


def _estimate(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e12:
        raise _Invalid(f"{name} is not a positive number of bytes")
    return float(value)
