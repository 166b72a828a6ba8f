"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.fuzz.hooks): real ids and credentials.

The test prepares, through the API, a signed-in user with a personal token, an anonymous
assessment with its edit key and a share link, and passes them in the environment. Path
parameters naming an assessment or share link get the real one (except on DELETE, so that one
case cannot delete what the others test), and each request carries the credential its route
reads: the edit key under /api/assessments/{id}, the user's token elsewhere.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

ASSESSMENT = os.environ.get("FUZZ_ASSESSMENT", "")
EDIT_KEY = os.environ.get("FUZZ_EDIT_KEY", "")
USER_TOKEN = os.environ.get("FUZZ_USER_TOKEN", "")
SHARE_TOKEN = os.environ.get("FUZZ_SHARE_TOKEN", "")


@schemathesis.hook
def map_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Real ids for the parameters that name someone's resource."""
    if not path_parameters or ctx.operation.method.upper() == "DELETE":
        return path_parameters
    if "assessment_id" in path_parameters:
        path_parameters["assessment_id"] = ASSESSMENT
    if "token" in path_parameters and ctx.operation.path.startswith("/s/"):
        path_parameters["token"] = SHARE_TOKEN
    return path_parameters


@schemathesis.auth()
class Credentials:
    """The edit key for the assessment's own routes, the personal token for the rest."""

    def get(self, case: Any, ctx: Any) -> str:
        """The credential this case's route reads."""
        own = case.operation.path.startswith("/api/assessments/{assessment_id}")
        return EDIT_KEY if own and not case.operation.path.endswith("/claim") else USER_TOKEN

    def set(self, case: Any, data: str, ctx: Any) -> None:
        """Send it as a bearer token."""
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
