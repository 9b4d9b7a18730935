"""Regional ways of writing dates and numbers: 31.12.2024 or 12/31/2024, 4,5 or 4.5.

A date such as 05/06/2024 is 5 June in Europe and May 6 in the US. Reading it one way without asking moved a
temporal split's test rows into training, so the order is decided by the data (any first field above 12 means
day-first, any second field above 12 means month-first) or by the user; a file that both readings fit is refused
with the choice offered, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recaug.core.errors import RecaugInputError

AUTO = "auto"
DAY_FIRST = "day-first"
MONTH_FIRST = "month-first"
DATE_ORDERS = (AUTO, DAY_FIRST, MONTH_FIRST)
DECIMAL_MARKS = (AUTO, ".", ",")


@dataclass(frozen=True)
class RegionalControls:
    """What one surface calls its date-order and decimal-mark settings, so a fix names a control its user has
    (a flag in a terminal, a choice on the dashboard's Home)."""

    dates: str
    decimal: str


CLI_CONTROLS = RegionalControls(dates="--dayfirst or --date-format month-first", decimal="pass --decimal ,")
# recaug.load_dataset's own argument (recaug.compare names its keyword arguments: recaug/api.py).
LOAD_DATASET_CONTROLS = RegionalControls(
    dates="pass regional=RegionalFormat(dates='day-first') or RegionalFormat(dates='month-first')",
    decimal="pass regional=RegionalFormat(decimal=',')",
)


class RegionalSettingError(RecaugInputError):
    """Input a regional setting would read (ambiguous dates, decimal commas in a comma file).

    ``fix`` is a template naming the setting as ``{dates}`` or ``{decimal}``: the message words it with the
    CLI's flags, :meth:`for_surface` with another surface's controls (ui/errors.py: the dashboard's).
    """

    def __init__(
        self,
        problem: str,
        *,
        fix: str = "",
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        controls: RegionalControls = CLI_CONTROLS,
    ) -> None:
        self.fix_template = fix
        worded = fix.format(dates=controls.dates, decimal=controls.decimal)
        super().__init__(problem, file=file, row=row, column=column, fix=worded or None)

    def for_surface(self, controls: RegionalControls) -> RegionalSettingError:
        """The same error with its fix naming ``controls``."""
        return RegionalSettingError(
            self.problem, fix=self.fix_template, file=self.file, row=self.row, column=self.column, controls=controls
        )


# d/m/y or m/d/y with '.', '/' or '-', a 2- or 4-digit year and an optional time (12- or 24-hour).
_NUMERIC_DATE = (
    r"^\s*(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"(?:[ T,]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?\s*$"
)
_DECIMAL_COMMA = r"^\s*[+-]?(?:\d{1,3}(?:\.\d{3})+|\d*),\d+\s*$"


@dataclass(frozen=True)
class RegionalFormat:
    """How the file writes dates and decimals; the defaults detect both from the data.

    ``dates``: "auto", "day-first", "month-first", or a strftime format such as ``%d.%m.%Y %H:%M``.
    ``decimal``: "auto" (a comma is a decimal mark in files not separated by commas), "." or ",".
    """

    dates: str = AUTO
    decimal: str = AUTO

    def __post_init__(self) -> None:
        dates = self.dates.strip().lower().replace("_", "-") if "%" not in self.dates else self.dates
        aliases = {"dayfirst": DAY_FIRST, "day": DAY_FIRST, "monthfirst": MONTH_FIRST, "month": MONTH_FIRST}
        object.__setattr__(self, "dates", aliases.get(dates, dates))
        if self.dates not in DATE_ORDERS and "%" not in self.dates:
            raise RecaugInputError(
                f"unknown date format '{self.dates}'",
                fix="use auto, day-first, month-first or a strftime format such as %d.%m.%Y",
            )
        if self.decimal not in DECIMAL_MARKS:
            raise RecaugInputError(f"unknown decimal mark '{self.decimal}'", fix="use auto, '.' or ','")


def decimal_commas(text: pd.Series, regional: RegionalFormat, delimiter: str | None) -> pd.Series | None:
    """``text`` with decimal commas (``4,5``, ``1.234,5``) written as points, or None when the column has none
    or the setting and the file's delimiter say a comma is not a decimal mark here."""
    if regional.decimal == "." or (regional.decimal == AUTO and delimiter in (",", None)):
        return None
    values = text.astype(object)
    present = values.notna()
    comma = values[present].astype(str).str.match(_DECIMAL_COMMA)
    if not comma.any():
        return None
    fixed = values.copy()
    chosen = comma[comma].index
    fixed[chosen] = values[chosen].astype(str).str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return fixed


def parse_dates(
    text: pd.Series, regional: RegionalFormat, *, file: str, column: str, row_of: Callable[[Hashable], int]
) -> pd.Series:
    """UTC datetimes of date strings (NaT where a value is not a date); raises when the day/month order is
    ambiguous or contradicts itself, naming an example row."""
    values = text.astype(object)
    if "%" in regional.dates:
        return pd.to_datetime(values, format=regional.dates, errors="coerce", utc=True)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    present = values.notna()
    parts = values[present].astype(str).str.extract(_NUMERIC_DATE)
    numeric = parts["a"].notna()
    if numeric.any():
        order = _date_order(parts[numeric], values, regional, file=file, column=column, row_of=row_of)
        parsed[numeric[numeric].index] = _assemble(parts[numeric], order)
    rest = present & ~parsed.index.isin(numeric[numeric].index)
    if rest.any():
        parsed[rest] = _utc(values[rest], "ISO8601")
        retry = rest & parsed.isna()
        if retry.any():  # other unambiguous styles one by one: '5 June 2020', 'Mon Aug 01 13:41:57 -0700 2016'
            parsed[retry] = _utc(values[retry], "mixed")
    return parsed


_NS_RANGE = (pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC"))


def _utc(values: pd.Series, style: str) -> pd.Series:
    """UTC datetimes in nanoseconds (NaT where not a date); a year nanoseconds cannot hold is no date either
    ('12-3' reads as 3 December of year 1, which stopped the read with OutOfBoundsDatetime)."""
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format=style)
    return parsed.where((parsed >= _NS_RANGE[0]) & (parsed <= _NS_RANGE[1])).dt.as_unit("ns")


def _date_order(
    parts: pd.DataFrame,
    values: pd.Series,
    regional: RegionalFormat,
    *,
    file: str,
    column: str,
    row_of: Callable[[Hashable], int],
) -> str:
    """day-first or month-first: the setting, else what the values prove; refused when nothing decides."""
    if regional.dates != AUTO:
        return regional.dates
    first, second = parts["a"].astype(int), parts["b"].astype(int)
    day_first, month_first = first > 12, second > 12
    if day_first.any() and month_first.any():
        a, b = day_first[day_first].index[0], month_first[month_first].index[0]
        raise RecaugInputError(
            f"the dates mix day-first ('{values[a]}', row {row_of(a)}) and month-first ('{values[b]}', "
            f"row {row_of(b)}) writing",
            file=file,
            row=row_of(a),
            column=column,
            fix="write every date the same way, preferably as ISO dates (2024-12-31)",
        )
    if day_first.any():
        return DAY_FIRST
    if month_first.any() or (first == second).all():
        return MONTH_FIRST  # also when both readings give the same dates (day equals month everywhere)
    example = (first != second).idxmax()
    a, b = int(first[example]), int(second[example])
    raise RegionalSettingError(
        f"dates such as '{values[example]}' can be read day-first ({a} {_MONTHS[b - 1]}) or month-first "
        f"({_MONTHS[a - 1]} {b}), and no date in the file decides (no day above 12)",
        file=file,
        row=row_of(example),
        column=column,
        fix="choose how the dates are written: {dates}",
    )


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _assemble(parts: pd.DataFrame, order: str) -> pd.Series:
    """Datetimes from extracted d/m/y parts in ``order``; an impossible date (month 13, 31 June) is NaT."""
    day, month = ("a", "b") if order == DAY_FIRST else ("b", "a")
    year = parts["year"].astype(int)
    year = year.where(parts["year"].str.len() == 4, np.where(year < 69, 2000 + year, 1900 + year))
    hour = parts["hour"].fillna("0").astype(int)
    ampm = parts["ampm"].fillna("").str.lower()
    hour = hour.where(ampm == "", hour % 12 + np.where(ampm == "pm", 12, 0))
    pieces = pd.DataFrame(
        {
            "year": year,
            "month": parts[month].astype(int),
            "day": parts[day].astype(int),
            "hour": hour,
            "minute": parts["minute"].fillna("0").astype(int),
            "second": parts["second"].fillna("0").astype(int),
        }
    )
    return pd.to_datetime(pieces, errors="coerce", utc=True)
