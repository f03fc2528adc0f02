"""Errors raised for bad input: each names the file, the place in it and what was expected."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input data.

    The message always names the file, the location (row, column or cell) and what was
    expected, so that an analyst can open the file and fix it without reading code.
    """

    def __init__(
        self,
        path: str | Path | None,
        location: str | None,
        expected: str,
        found: object | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.location = location
        self.expected = expected
        self.found = found
        parts = []
        if self.path:
            parts.append(self.path)
        if location:
            parts.append(location)
        where = ": ".join(parts) if parts else "input"
        message = f"{where}: expected {expected}"
        if found is not None:
            message += f", found {found!r}"
        super().__init__(message)


class ConfigError(ValueError):
    """An evaluation configuration that cannot be run (unknown municipality, indicator, years)."""


class PersonalDataError(InputError):
    """Input that looks like it holds personal data (names, personal identity numbers).

    The message is one Swedish sentence naming the file and the place, with the value masked:
    "Personuppgifter i logg.xlsx, blad Aktiviteter cell I2: ett personnummer (19121212-****);
    ta bort uppgiften, filen läses inte in."
    """

    def __init__(self, path: str | Path | None, location: str | None, kind: str, masked: str):
        super().__init__(path, location, "no personal data", masked)
        self.kind = kind
        where = ", ".join(part for part in (self.path, location) if part)
        self.args = (
            f"Personuppgifter i {where}: {kind} ({masked}); ta bort uppgiften, filen läses "
            "inte in.",
        )

    def __str__(self) -> str:
        return str(self.args[0])
