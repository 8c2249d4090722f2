"""Exceptions of cpts-diag. Every message, in French, names the field (option, file, line) that is
wrong and says how to fix it (« Correctif : … »)."""
from __future__ import annotations


class CptsDiagError(Exception):
    """Base class of every error raised on purpose by cpts-diag."""


class DataNotInstalledError(CptsDiagError, FileNotFoundError):
    """A data file (or the whole snapshot) is absent from the data roots."""


class DataIntegrityError(CptsDiagError):
    """A data file exists but fails its SHA-256 check or cannot be parsed."""


class VintageError(CptsDiagError, ValueError):
    """A vintage (year) that the source does not provide was requested."""


class WorkbookFormatError(CptsDiagError, ValueError):
    """An Excel workbook does not have the layout its publisher uses."""


class OfflineError(CptsDiagError, ConnectionError):
    """A download was needed but the publisher could not be reached."""


class ArgumentError(CptsDiagError, ValueError):
    """An argument of a function of the Python API has a value that is not allowed."""


class HarmonisationError(CptsDiagError, ValueError):
    """Commune codes could not be placed in COG 2025."""


class TerritoryError(CptsDiagError, ValueError):
    """A perimeter is invalid (unknown or duplicate code, empty, unknown CPTS, bad YAML)."""


class APLInputError(CptsDiagError, ValueError):
    """An input of the APL engine (travel times, supply, scenario, parameters) is invalid."""
