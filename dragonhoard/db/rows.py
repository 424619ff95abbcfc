"""Typed rows: each statement answers a NamedTuple, decoded once per dialect.

A row type's annotations say what each column holds; the dialect says how to
turn what its driver gave into that (``dialects.py``). The decoder for a row
type and a dialect is worked out once and kept.
"""
from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel

from .dialects import Dialect


def _kind(annotation: Any) -> str | None:
    """``"timestamp"``, ``"bool"`` or None (an optional one counts as its type)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        kinds = {_kind(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if annotation is datetime:
        return "timestamp"
    if annotation is bool:
        return "bool"
    return None


def row_type(name: str, shape: type[BaseModel], extra: Iterable[tuple[str, Any]] = ()) -> type:
    """A NamedTuple with an answer shape's fields, in its order, then ``extra``.

    The statements that load a shape select its columns in this order, so
    that a field added to the shape is one edit there and one to the
    statement's column list.
    """
    fields = [(field, info.annotation) for field, info in shape.model_fields.items()]
    return NamedTuple(name, [*fields, *extra])


@functools.cache
def decoder(row: type, dialect_name: str, decoders: tuple[tuple[str, Any], ...]) -> Callable[[tuple], Any]:
    hints = typing.get_type_hints(row)
    by_kind = dict(decoders)
    steps = []
    for index, field in enumerate(row._fields):
        convert = by_kind.get(_kind(hints[field]))
        if convert is not None:
            steps.append((index, convert))
    make = row._make
    if not steps:
        return make

    def decode(values: tuple) -> Any:
        values = list(values)
        for index, convert in steps:
            value = values[index]
            if value is not None:
                values[index] = convert(value)
        return make(values)

    return decode


def decode_with(row: type, dialect: Dialect) -> Callable[[tuple], Any]:
    """The function that turns ``dialect``'s raw rows into ``row``s."""
    return decoder(row, dialect.name, tuple(dialect.decoders.items()))
