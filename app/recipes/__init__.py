"""Recipes: catalog, parameters, estimates, exporters and dataset checks (pure, no web imports)."""

from app.recipes.catalog import (
    Recipe,
    get_recipe,
    list_ids,
    load_catalog,
    recipe_for_step,
)
from app.recipes.dataset import METHODS, DatasetReport, check_bytes, check_file, check_lines
from app.recipes.errors import (
    BadValue,
    DatasetError,
    NotAvailable,
    RecipeError,
    UnknownFormat,
    UnknownKey,
    UnknownRecipe,
)
from app.recipes.estimate import Estimate, estimate
from app.recipes.params import (
    PARAM_KEYS,
    RecipeParams,
    params_from_config,
    params_from_profile,
    parse_assignments,
    resolve_params,
)
from app.recipes.render import (
    FORMATS,
    Rendered,
    available_formats,
    describe,
    prepare,
    render,
)

__all__ = [
    "FORMATS",
    "METHODS",
    "PARAM_KEYS",
    "BadValue",
    "DatasetError",
    "DatasetReport",
    "Estimate",
    "NotAvailable",
    "Recipe",
    "RecipeError",
    "RecipeParams",
    "Rendered",
    "UnknownFormat",
    "UnknownKey",
    "UnknownRecipe",
    "available_formats",
    "check_bytes",
    "check_file",
    "check_lines",
    "describe",
    "estimate",
    "get_recipe",
    "list_ids",
    "load_catalog",
    "params_from_config",
    "params_from_profile",
    "parse_assignments",
    "prepare",
    "recipe_for_step",
    "render",
    "resolve_params",
]
