"""Limits of uploaded datasets, shared by the recipe pages and the recipes API."""

from __future__ import annotations

import re

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# The upload may be larger than the app-wide body limit; the multipart framing needs a margin.
MAX_UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
# The routes taking an upload, each with the body limit above instead of the app-wide one
# (app/web/middleware/body_limit.py); tests/web/test_body_limits.py checks the route table.
UPLOAD_LIMITS = (
    (re.compile(r"/api/recipes/dataset-check|/recipes/[^/]+/dataset-check"), MAX_UPLOAD_BODY_BYTES),
)
