"""Errors raised by the recipes package, each naming the offending item."""

from __future__ import annotations


class RecipeError(ValueError):
    """Base class: a request the recipes package cannot satisfy; `key` names what was wrong."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


class UnknownRecipe(RecipeError):
    """The recipe id is not in the catalog."""


class UnknownFormat(RecipeError):
    """The export format does not exist."""


class UnknownKey(RecipeError):
    """A parameter key is not one of the contract's keys."""


class BadValue(RecipeError):
    """A parameter value fails validation."""


class NotAvailable(RecipeError):
    """The method does not exist for this recipe on the requested platform or format."""


class DatasetError(RecipeError):
    """The dataset file cannot be read at all (missing, too large)."""
