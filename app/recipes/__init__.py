"""Recipes: catalog, parameters, estimates, exporters and dataset checks (pure, no web imports)."""

from app.recipes.catalog import (
    Recipe,
    get_recipe,
    list_ids,
    load_catalog,
    recipe_for_step,
)
from app.recipes.errors import (
    BadValue,
    DatasetError,
    NotAvailable,
    RecipeError,
    UnknownFormat,
    UnknownKey,
    UnknownRecipe,
)
from app.recipes.params import (
    PARAM_KEYS,
    RecipeParams,
    parse_assignments,
    params_from_config,
    params_from_profile,
    resolve_params,
)
from app.recipes.render import FORMATS, Rendered, available_formats, describe, render

__all__ = [
    "FORMATS", "PARAM_KEYS", "BadValue", "DatasetError", "NotAvailable", "Recipe", "RecipeError",
    "RecipeParams", "Rendered", "UnknownFormat", "UnknownKey", "UnknownRecipe", "available_formats",
    "describe", "get_recipe", "list_ids", "load_catalog", "params_from_config", "params_from_profile",
    "parse_assignments", "recipe_for_step", "render", "resolve_params",
]
