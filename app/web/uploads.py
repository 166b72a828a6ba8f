"""Limits of uploaded datasets, shared by the recipe pages and the recipes API."""

from __future__ import annotations

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# The upload may be larger than the app-wide body limit; the multipart framing needs a margin.
MAX_UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
