"""A rule's own message: a format string over known fields, bounded in what it can make.

A template is Python's format syntax over the fields every rule knows
(``{symbol} crossed {threshold:,.0f} (now {price:,.2f})``). Left alone, one format
spec can ask for anything: ``{price:>20000000}`` rendered a 20 MB alert that every
handler reading alerts refused. So a template is held to:

- known field names only (no attribute or index access, no positional ``{}``);
- a width of at most `MAX_WIDTH` and a precision of at most `MAX_PRECISION`, written
  out (no nested ``{...}`` inside a spec);
- a longest possible rendering of at most `MAX_RENDERED` characters, worked out from
  the longest value each field can have.

`template_problem` says what is wrong (the command boundary refuses the rule with it,
naming ``message_template``). `render` renders only a template without a problem, and
never returns more than `MAX_RENDERED` characters (a price beyond every sample, 1e300,
is cut), so a rule recorded before these bounds existed falls back to the default
sentence instead of making an alert nobody can read.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

MAX_WIDTH = 64
MAX_PRECISION = 12
MAX_RENDERED = 1000
"""Characters of a rendered message; an alert's message holds up to 4000."""

NUMBER_FIELDS = frozenset({"price", "threshold", "value"})
TEXT_BOUNDS = {
    "symbol": 65,  # BASE/QUOTE (25), or a post rule's keyword with its $ (65)
    "condition": 20,
    "rule": 80,  # the rule's name, or its id (36)
    "target": 110,  # a symbol on a venue, or a keyword from an account
}
TEMPLATE_FIELDS = NUMBER_FIELDS | frozenset(TEXT_BOUNDS)
NUMBER_SAMPLES = (-999_999_999_999_999.9, 0.000_000_012_345_678_9, -1.0, 12_345)
"""The widest numbers a field can be expected to show, for the longest rendering."""

CONVERSIONS: dict[str, Callable[[object], str]] = {"r": repr, "s": str, "a": ascii}

_SPEC = re.compile(
    r"^(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?z?#?0?(?P<width>\d+)?"
    r"[,_]?(?:\.(?P<precision>\d+))?(?P<type>[bcdeEfFgGnosxX%])?$",
    re.DOTALL,
)


@lru_cache(maxsize=4096)
def template_problem(template: str) -> str | None:
    """What makes `template` unusable, as one sentence; None when it is fine."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        return f"malformed template: {error}"
    unknown = sorted({name for _, name, _, _ in parts if name is not None} - TEMPLATE_FIELDS)
    if unknown:
        shown = ", ".join(repr(name) if name else "{}" for name in unknown)
        return f"unknown fields {shown} (known: {', '.join(sorted(TEMPLATE_FIELDS))})"
    longest = 0
    for literal, name, spec, conversion in parts:
        longest += len(literal)
        if name is None:
            continue
        if conversion is not None and conversion not in CONVERSIONS:
            return f"{{{name}!{conversion}}}: a conversion is !r, !s or !a"
        problem = _spec_problem(name, spec or "")
        if problem is not None:
            return problem
        longest += _longest(name, spec or "", conversion)
    if longest > MAX_RENDERED:
        return (
            f"renders up to {longest} characters; a message holds at most {MAX_RENDERED}"
            " (use narrower widths or fewer fields)"
        )
    return None


def render(template: str, fields: Mapping[str, Any]) -> str | None:
    """The template filled in with `fields`, at most `MAX_RENDERED` characters; None
    when it cannot be (a problem, or a spec that does not suit the value, such as
    ``{price:d}`` on a float): the caller then says it in its default sentence."""
    if template_problem(template) is not None:
        return None
    try:
        text = template.format_map(fields)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    return text if len(text) <= MAX_RENDERED else text[: MAX_RENDERED - 1] + "…"


def _spec_problem(name: str, spec: str) -> str | None:
    if "{" in spec:
        return f"{{{name}}}: a format spec cannot contain fields"
    match = _SPEC.match(spec)
    if match is None:
        return f"{{{name}:{spec}}}: not a format spec (e.g. {{{name}:>12,.2f}})"
    width, precision = match["width"], match["precision"]
    if width is not None and int(width) > MAX_WIDTH:
        return f"{{{name}}}: a width of at most {MAX_WIDTH}, not {int(width)}"
    if precision is not None and int(precision) > MAX_PRECISION:
        return f"{{{name}}}: a precision of at most {MAX_PRECISION}, not {int(precision)}"
    return None


def _longest(name: str, spec: str, conversion: str | None) -> int:
    """The longest text one field can render to under its spec and conversion."""
    samples: tuple[Any, ...] = (
        NUMBER_SAMPLES if name in NUMBER_FIELDS else ("W" * TEXT_BOUNDS[name],)
    )
    longest = 0
    for sample in samples:
        value = CONVERSIONS[conversion](sample) if conversion else sample
        try:
            longest = max(longest, len(format(value, spec)))
        except (ValueError, TypeError):
            continue  # fails at run time too, and the default sentence is used
    return longest
