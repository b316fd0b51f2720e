"""Options of a plugin: declared in its info, set by the user as strings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence


@dataclass(frozen=True)
class Option:
    """One option a plugin takes (``int8cal ... --calibrators name:opt=value``
    for a calibrator, ``--eval-data name:opt=value`` for a data set)."""

    name: str
    default: str
    """Its value when the user sets none; "" for none (an option that may
    then be required)."""
    description: str


class OptionError(ValueError):
    """A bad option: an unknown name, a bad value, a missing required one.
    The host shows the message to the user (as gRPC InvalidArgument), so it
    names the option and says what is wanted."""


def merge(owner: str, declared: Sequence[Option], given: Mapping[str, str]) -> dict[str, str]:
    """Checks given against the declared options and returns every declared
    option's value: the given one, else its default (options whose default
    is "" and that were not given are left out).

    The message of an unknown option is the Go SDK's (internal/options):
    ``owner: unknown option "x" (options: a, b)``.
    """
    names = [o.name for o in declared]
    for key in sorted(given):
        if key not in names:
            listed = ", ".join(names) if names else "none"
            raise OptionError(f'{owner}: unknown option "{key}" (options: {listed})')
    values = {o.name: o.default for o in declared if o.default != ""}
    values.update(given)
    return values
