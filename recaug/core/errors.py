"""The one exception type for bad user input, with a message a human can act on."""

from __future__ import annotations


class RecaugInputError(ValueError):
    """Raised for any problem with user-supplied data or settings.

    The message always names the file (and row/column when known) and says what to
    do, so the UI and the CLI can show it verbatim instead of a traceback.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.row = row
        self.column = column
        self.fix = fix
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(f"file '{self.file}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        text = (", ".join(where) + ": " if where else "") + self.problem
        if self.fix:
            text += f" — {self.fix}"
        return text
