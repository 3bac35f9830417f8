"""The declarative base of every model: fields that name their wire key and parser.

A model field declared with :func:`wire` states where its value comes from and how it
is read::

    pv_power: float | None = wire("pvPower", parse_number)

:meth:`SigenModel.from_dict` walks the model's fields, reads each one from the first
of its wire keys whose value the parser can read, and keeps the original object as
``raw``. A parser never raises: an unreadable value is ``None`` and the field keeps its
default; only a ``required`` field that stays ``None`` stops the model (a
:class:`~sigen.errors.SigenAPIError` naming the key and the fields that were there).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Self

from .._parse import negate
from ..errors import SigenAPIError

#: The metadata key under which :func:`wire` stores a field's :class:`Wire`.
WIRE_KEY = "sigen_wire"

type Parser[T] = Callable[[object], T | None]


class Wire(NamedTuple):
    """Where a field comes from: its wire keys (first readable wins) and its parser."""

    keys: tuple[str, ...]
    parse: Parser[Any]
    required: bool | str


class _Plan(NamedTuple):
    """One wire field of a model, as :meth:`SigenModel.from_dict` reads it."""

    name: str
    keys: tuple[str, ...]
    parse: Parser[Any]
    required: bool | str


def wire[T](
    key: str,
    parse: Parser[T],
    *aliases: str,
    required: bool | str = False,
    default: Any = None,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """A model field read from ``key`` (or the first readable alias) by ``parse``.

    ``required`` makes the field positional and the model unreadable without it (a
    text names what is missing in the error, e.g. ``"an integer path"``). Otherwise
    the field falls back to ``default`` (or ``default_factory()``) when no key holds a
    value ``parse`` can read.
    """
    metadata = {WIRE_KEY: Wire((key, *aliases), parse, required)}
    if required:
        return field(metadata=metadata)
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def first_parsed[T](source: Mapping[str, Any], keys: tuple[str, ...], parse: Parser[T]) -> T | None:
    """The first value among ``keys`` of ``source`` that ``parse`` can read, else ``None``.

    A key that is missing or ``null`` is passed over without calling ``parse``.
    """
    for key in keys:
        sent = source.get(key)
        if sent is not None and (value := parse(sent)) is not None:
            return value
    return None


def negated(parse: Parser[float]) -> Parser[float]:
    """A parser giving ``-parse(value)`` (never ``-0.0``): for signs the cloud inverts."""

    def parse_negated(value: object) -> float | None:
        return negate(parse(value))

    parse_negated.__doc__ = f"The negated value of {getattr(parse, '__name__', 'a parser')}."
    return parse_negated


def require_mapping(what: str, data: object) -> dict[str, Any]:
    """``data`` as a dict, or a :class:`SigenAPIError` saying what could not be read."""
    if isinstance(data, Mapping):
        return dict(data)
    raise SigenAPIError(f"Cannot read {what}: expected a JSON object, got {type(data).__name__}")


class _Plans(NamedTuple):
    """The wire fields of a model, and those of them that are required."""

    fields: tuple[_Plan, ...]
    required: tuple[_Plan, ...]


_PLANS: dict[type[SigenModel], _Plans] = {}


def _plans(model: type[SigenModel]) -> _Plans:
    """The wire fields of ``model``, worked out once per class."""
    plans = _PLANS.get(model)
    if plans is None:
        fields = tuple(
            _Plan(item.name, *item.metadata[WIRE_KEY])
            for item in dataclasses.fields(model)
            if WIRE_KEY in item.metadata
        )
        plans = _PLANS[model] = _Plans(fields, tuple(plan for plan in fields if plan.required))
    return plans


@dataclass(frozen=True)
class SigenModel:
    """A frozen model read from the cloud's JSON; the original object stays as ``raw``.

    Subclasses are frozen dataclasses whose fields are declared with :func:`wire`;
    :attr:`WHAT` names the model in error messages. :meth:`_derive` fills fields that
    are computed from others rather than read.
    """

    #: The model's name in error messages (a plain class attribute, not a field).
    WHAT = "a model"

    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, kw_only=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the cloud's JSON object (unknown keys are ignored, kept in ``raw``)."""
        return cls.build(require_mapping(cls.WHAT, data))

    @classmethod
    def build(cls, source: dict[str, Any], **given: Any) -> Self:
        """Build from ``source``; ``given`` values are taken as they are, not read.

        ``raw`` is ``source`` itself (not a copy) unless ``given`` names another.
        """
        values = cls.read(source)
        values.update(given)
        cls._check_required(source, values)
        cls._derive(values)
        values.setdefault("raw", source)
        return cls(**values)

    @classmethod
    def read(cls, source: Mapping[str, Any]) -> dict[str, Any]:
        """The fields that ``source`` holds readable values for, by field name."""
        values: dict[str, Any] = {}
        for name, keys, parse, _required in _plans(cls).fields:
            for key in keys:
                sent = source.get(key)
                if sent is not None and (value := parse(sent)) is not None:
                    values[name] = value
                    break
        return values

    @classmethod
    def _check_required(cls, source: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Raise :class:`SigenAPIError` for a required field without a readable value."""
        for name, keys, _parse, required in _plans(cls).required:
            if values.get(name) is None:
                needs = required if isinstance(required, str) else keys[0]
                raise cls.unreadable(source, keys[0], needs)

    @classmethod
    def unreadable(cls, source: Mapping[str, Any], key: str, needs: str) -> SigenAPIError:
        """The error for a ``source`` without a readable ``key`` (``needs`` says what)."""
        fields = ", ".join(sorted(source)) or "none"
        return SigenAPIError(
            f"Cannot read {cls.WHAT}: the cloud's answer has no {needs} "
            f"({key} is {source.get(key)!r}; fields: {fields})"
        )

    @classmethod
    def _derive(cls, values: dict[str, Any]) -> None:
        """Fill fields computed from the others (none by default)."""


class PowerSplit:
    """The import/export and charge/discharge split of ``grid_power``/``battery_power``.

    A base of the power models (REST energy flows, MQTT telemetry), which give the two
    powers with the library's signs: grid + = importing, battery + = discharging.
    """

    __slots__ = ()

    grid_power: float | None
    battery_power: float | None

    @property
    def grid_import_power(self) -> float | None:
        """Power drawn from the grid, kW (``max(grid_power, 0)``)."""
        return None if self.grid_power is None else max(0.0, self.grid_power)

    @property
    def grid_export_power(self) -> float | None:
        """Power fed into the grid, kW (``max(-grid_power, 0)``)."""
        return None if self.grid_power is None else max(0.0, -self.grid_power)

    @property
    def battery_discharge_power(self) -> float | None:
        """Power taken from the battery, kW (``max(battery_power, 0)``)."""
        return None if self.battery_power is None else max(0.0, self.battery_power)

    @property
    def battery_charge_power(self) -> float | None:
        """Power put into the battery, kW (``max(-battery_power, 0)``)."""
        return None if self.battery_power is None else max(0.0, -self.battery_power)
