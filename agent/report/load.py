"""Read a ``viddiff compare --json`` result back, or say in one line why it cannot be read.

A report may be asked for long after the comparison, from a file an older (or another) version
wrote, hand-edited, or not a result at all. Pydantic's own message is many lines per field; a
person needs one line that names the file and the fields that are missing or wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from viddiff.graphs.schemas import ComparisonResult
from viddiff.tools.errors import VidDiffError

#: How many problem fields a message names before it says "and N more".
MAX_LISTED = 6


class ReportError(VidDiffError):
    """A report cannot be made or written (one-line message)."""


class ResultFormatError(ReportError):
    """The input is not a comparison result this version can read."""


def _where(loc: tuple[int | str, ...]) -> str:
    """``('differences', 2, 'label')`` -> ``differences[2].label``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _listed(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    shown = ", ".join(unique[:MAX_LISTED])
    if len(unique) > MAX_LISTED:
        shown += f" and {len(unique) - MAX_LISTED} more"
    return shown


def describe_validation_error(err: ValidationError) -> str:
    """Missing and wrong fields of a failed validation, in one line."""
    missing: list[str] = []
    wrong: list[str] = []
    for item in err.errors(include_url=False):
        where = _where(tuple(item.get("loc", ())))
        if item.get("type") == "missing":
            missing.append(where)
        else:
            msg = str(item.get("msg", "invalid")).splitlines()[0]
            wrong.append(f"{where} ({msg[:80]})")
    parts = []
    if missing:
        parts.append(f"missing fields: {_listed(missing)}")
    if wrong:
        parts.append(f"wrong values: {_listed(wrong)}")
    return "; ".join(parts) or "invalid content"


def parse_result(data: str | bytes | Mapping[str, Any], source: str = "result") -> ComparisonResult:
    """A :class:`ComparisonResult` from JSON text or an already parsed mapping.

    ``source`` names the input in error messages (usually the file path).
    """
    obj: Any = data
    if isinstance(data, str | bytes):
        try:
            obj = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            detail = err.msg if isinstance(err, json.JSONDecodeError) else "not UTF-8 text"
            line = f" at line {err.lineno}" if isinstance(err, json.JSONDecodeError) else ""
            raise ResultFormatError(
                f"{source}: not a viddiff result (not JSON: {detail}{line})") from None
    if not isinstance(obj, Mapping):
        raise ResultFormatError(f"{source}: not a viddiff result (expected a JSON object, "
                                f"got {type(obj).__name__})")
    try:
        return ComparisonResult.model_validate(dict(obj))
    except ValidationError as err:
        raise ResultFormatError(
            f"{source}: not a result this viddiff version can read; "
            f"{describe_validation_error(err)}") from None


def load_result(path: str | Path) -> ComparisonResult:
    """Read and validate a result file written by ``viddiff compare --json``."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ResultFormatError(f"result file not found: {p}")
    if p.is_dir():
        raise ResultFormatError(f"{p}: is a directory, not a result file")
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise ResultFormatError(f"{p}: cannot read file ({err.strerror or err})") from None
    return parse_result(raw, source=str(p))
