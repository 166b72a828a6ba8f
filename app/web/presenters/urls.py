"""Every URL the application emits is built here; nothing else formats a path (docs/adr/0004)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

HOME = "/"
ASSESSMENTS = "/assessments"
RECIPES = "/recipes"
RECIPES_API = "/api/recipes"
RETURN_TO_REVIEW = "return=review"  # a step opened from the review page saves back to it
ASSESSMENT_QUERY = "assessment"  # the query key of a recipe URL naming the assessment to fill from
KEY_QUERY = "key"  # the query key of a private link carrying an assessment's edit key
SHARED = "/s"
HOW_IT_DECIDES = "/how-it-decides"


def query(items: Iterable[tuple[str, str]]) -> str:
    """Query parameters as a query string, without the leading "?"."""
    return urlencode(list(items))


def _with(path: str, query_string: str = "", fragment: str = "") -> str:
    """A path with its query string and fragment, each only when given."""
    return (
        path + (f"?{query_string}" if query_string else "") + (f"#{fragment}" if fragment else "")
    )


def home() -> str:
    """The start page."""
    return HOME


def how_it_decides() -> str:
    """The page that shows the decision ladder and its sources."""
    return HOW_IT_DECIDES


def new_assessment() -> str:
    """Where the start form posts to create an assessment."""
    return ASSESSMENTS


def assessment(assessment_id: str) -> str:
    """An assessment's own link: it resumes where the user left off."""
    return f"{ASSESSMENTS}/{assessment_id}"


def private_link(assessment_id: str, edit_key: str) -> str:
    """The private "continue on another device" link: it carries the edit key."""
    return _with(assessment(assessment_id), query([(KEY_QUERY, edit_key)]))


def absolute(base_url: str, path: str) -> str:
    """A path of this site as a full URL, for links meant to be copied elsewhere."""
    return base_url.rstrip("/") + path


def step(assessment_id: str, question_id: str) -> str:
    """The bookmarkable URL of one step."""
    return f"{assessment(assessment_id)}/steps/{question_id}"


def change(assessment_id: str, question_id: str) -> str:
    """A step's URL for changing an answer and coming back to the review."""
    return _with(step(assessment_id, question_id), RETURN_TO_REVIEW)


def screen(assessment_id: str, slug: str, *, returning: bool = False, changed: str = "") -> str:
    """One screen of the questionnaire (a section of questions); `returning` saves back to the
    review; `changed` names the questions the last post changed (for the advice panel)."""
    items = [("return", "review")] if returning else []
    if changed:
        items.append(("changed", changed))
    return _with(f"{assessment(assessment_id)}/screens/{slug}", query(items))


def screen_live(assessment_id: str, slug: str) -> str:
    """Where a screen's form posts on every change (htmx) to re-render without saving."""
    return f"{assessment(assessment_id)}/screens/{slug}/live"


def change_screen(assessment_id: str, slug: str, question_id: str) -> str:
    """A screen opened from the review page to change one answer, scrolled to it."""
    return _with(
        f"{assessment(assessment_id)}/screens/{slug}", RETURN_TO_REVIEW, f"q-{question_id}"
    )


def review(assessment_id: str) -> str:
    """The review page, which also takes the post that completes the assessment."""
    return f"{assessment(assessment_id)}/review"


def result(assessment_id: str) -> str:
    """The shareable result page."""
    return f"{assessment(assessment_id)}/result"


def export(assessment_id: str, kind: str) -> str:
    """The download of an assessment as `json` or `md`."""
    return f"{assessment(assessment_id)}/export.{kind}"


def rename(assessment_id: str) -> str:
    """Where the result page's form renames an assessment."""
    return f"{assessment(assessment_id)}/rename"


def delete(assessment_id: str) -> str:
    """The page that confirms deleting an assessment, and takes the post that does."""
    return f"{assessment(assessment_id)}/delete"


def share_section(assessment_id: str) -> str:
    """The result page, scrolled to its share links."""
    return _with(result(assessment_id), fragment="share")


def new_share(assessment_id: str) -> str:
    """Where the result page's form posts to create a share link."""
    return f"{assessment(assessment_id)}/shares"


def revoke_share(assessment_id: str, token: str) -> str:
    """Where the result page's form posts to revoke one share link."""
    return f"{new_share(assessment_id)}/{token}/revoke"


def shared(token: str) -> str:
    """The read-only page a share link opens."""
    return f"{SHARED}/{token}"


def shared_json(token: str) -> str:
    """The read-only assessment and recommendation a share link opens, as JSON."""
    return f"{shared(token)}.json"


def shares_api(assessment_id: str) -> str:
    """An assessment's share links in the JSON API (list, create)."""
    return f"/api{new_share(assessment_id)}"


def share_api(assessment_id: str, token: str) -> str:
    """One share link in the JSON API (revoke)."""
    return f"{shares_api(assessment_id)}/{token}"


def recipes() -> str:
    """The catalog of recipes and playbooks."""
    return RECIPES


def recipe(recipe_id: str, query_string: str = "", *, fragment: str = "") -> str:
    """One recipe page, configured by its query string."""
    return _with(f"{RECIPES}/{recipe_id}", query_string, fragment)


def recipe_for(recipe_id: str, assessment_id: str | None) -> str:
    """A recipe page with its parameters filled from an assessment, when there is one."""
    return recipe(recipe_id, query([(ASSESSMENT_QUERY, assessment_id)]) if assessment_id else "")


def recipe_export(recipe_id: str, fmt: str, query_string: str = "") -> str:
    """The stable download URL of one export of a configured recipe."""
    return _with(f"{RECIPES}/{recipe_id}/export/{fmt}", query_string)


def dataset_check(recipe_id: str) -> str:
    """Where the dataset upload of a recipe posts."""
    return f"{RECIPES}/{recipe_id}/dataset-check"


def recipes_api() -> str:
    """The recipe ids as JSON."""
    return RECIPES_API


def recipe_api(recipe_id: str) -> str:
    """One recipe as JSON."""
    return f"{RECIPES_API}/{recipe_id}"


INVITE_QUERY = "invite"  # the query key of a sign-up or sign-in that returns to an invitation


def signup(invite: str | None = None) -> str:
    """The sign-up page; with an invitation's token, it returns there after."""
    return _with("/signup", query([(INVITE_QUERY, invite)]) if invite else "")


def signin(invite: str | None = None) -> str:
    """The sign-in page; with an invitation's token, it returns there after."""
    return _with("/signin", query([(INVITE_QUERY, invite)]) if invite else "")


def signout() -> str:
    """Where the sign-out form posts."""
    return "/signout"


def team(team_id: str) -> str:
    """One team's page: members, invites, assessments."""
    return f"/teams/{team_id}"


def invite(token: str) -> str:
    """The page that accepts an invitation into a team."""
    return f"/invites/{token}"


def claim(assessment_id: str) -> str:
    """Where the result page's form moves an assessment into an account or a team."""
    return f"{assessment(assessment_id)}/claim"


def claim_section(assessment_id: str) -> str:
    """The result page's section about who owns the assessment."""
    return _with(result(assessment_id), fragment="claim")


def team_invites(team_id: str) -> str:
    """Where a team page's form makes an invitation."""
    return f"{team(team_id)}/invites"


def teams() -> str:
    """The user's teams, and the form that creates one."""
    return "/teams"


def my_assessments() -> str:
    """The user's assessments and their teams' (or, anonymous, those this browser holds)."""
    return "/my/assessments"


def member_role(team_id: str, user_id: str) -> str:
    """Where a team page's form changes a member's role."""
    return f"{team(team_id)}/members/{user_id}/role"


def member_removal(team_id: str, user_id: str) -> str:
    """Where a team page's form removes a member (or the user leaves)."""
    return f"{team(team_id)}/members/{user_id}/remove"


def account() -> str:
    """The signed-in user's account page: password, API tokens, sessions."""
    return "/account"


def account_password() -> str:
    """Where the account page's form changes the password."""
    return f"{account()}/password"


def account_tokens() -> str:
    """Where the account page's form creates an API token."""
    return f"{account()}/tokens"


def revoke_api_token(token_id: str) -> str:
    """Where the account page's form revokes one API token."""
    return f"{account_tokens()}/{token_id}/revoke"


def revoke_session(session_id: str) -> str:
    """Where the account page's form signs one session out."""
    return f"{account()}/sessions/{session_id}/revoke"


JOBS = "/jobs"
STATUS_QUERY = "status"  # the query key of a job list's status filter


def jobs(status: str | None = None) -> str:
    """The list of the user's jobs, newest first, optionally of one status."""
    return _with(JOBS, query([(STATUS_QUERY, status)]) if status else "")


def new_job() -> str:
    """Where the recipe page's Run form posts."""
    return JOBS


def job(job_id: str) -> str:
    """One job's page: status, log tail, loss curve, artifacts."""
    return f"{JOBS}/{job_id}"


def job_cancel(job_id: str) -> str:
    """Where the job page's form cancels it."""
    return f"{job(job_id)}/cancel"


def job_log(job_id: str) -> str:
    """The job's whole log as text."""
    return f"{job(job_id)}/log"


def jobs_api(assessment_id: str | None = None) -> str:
    """The JSON list of jobs (of one assessment)."""
    return _with(f"/api{JOBS}", query([("assessment", assessment_id)]) if assessment_id else "")


def job_api(job_id: str) -> str:
    """One job as JSON."""
    return f"/api{job(job_id)}"


def job_logs_api(job_id: str, tail: int | None = None) -> str:
    """A job's log as text, its last `tail` lines when given."""
    return _with(f"{job_api(job_id)}/logs", query([("tail", str(tail))]) if tail else "")


def job_cancel_api(job_id: str) -> str:
    """Cancel a job through the JSON API."""
    return f"{job_api(job_id)}/cancel"


def demo_assets(recipe_id: str) -> str:
    """Where the recipe page's "Use the demo model" form posts."""
    return f"{JOBS}/demo-assets/{recipe_id}"


# The team dashboard, decision-record exports and webhooks (issue 13, part B).


def team_dashboard(team_id: str, query_string: str = "") -> str:
    """A team's dashboard of saved assessments, with its filters as a query string."""
    return _with(f"{team(team_id)}/assessments", query_string)


def team_assessments_api(team_id: str, query_string: str = "") -> str:
    """The dashboard's JSON: `GET /api/teams/{id}/assessments`, with its filters."""
    return _with(f"/api/teams/{team_id}/assessments", query_string)


def decision_record(assessment_id: str, kind: str = "md") -> str:
    """An assessment's decision record: MADR Markdown (`md`) or JSON (`json`)."""
    suffix = "?style=madr" if kind == "md" else ""
    return f"/api/assessments/{assessment_id}/export.{kind}{suffix}"


def decision_record_page(assessment_id: str) -> str:
    """An assessment's decision record as a page to read and print."""
    return f"{assessment(assessment_id)}/decision-record"


def team_webhook(team_id: str) -> str:
    """The owners' page of a team's webhook and its delivery log; its forms post here too."""
    return f"{team(team_id)}/webhook"


def team_webhook_removal(team_id: str) -> str:
    """Where the webhook page's form removes the webhook."""
    return f"{team_webhook(team_id)}/remove"


def team_webhook_api(team_id: str) -> str:
    """The team's webhook in the JSON API."""
    return f"/api/teams/{team_id}/webhook"


def webhook_redelivery(team_id: str, delivery_id: int) -> str:
    """Where the delivery log's "Redeliver" button posts (owners)."""
    return f"{team_webhook(team_id)}/deliveries/{delivery_id}/redeliver"


def webhook_redelivery_api(team_id: str, delivery_id: int) -> str:
    """Redeliver a past delivery through the JSON API (owners)."""
    return f"{team_webhook_api(team_id)}/deliveries/{delivery_id}/redeliver"


# Team review (issue 13, part A): the review page, its forms, the diff and the waiting list.
REVIEWS = "/reviews"


def approval(assessment_id: str, fragment: str = "") -> str:
    """An assessment's review page: status, reviewers, decision, thread, timeline, audit."""
    return _with(f"{assessment(assessment_id)}/approval", fragment=fragment)


def approval_request(assessment_id: str) -> str:
    """Where the review page's "ask for review" form posts."""
    return f"{assessment(assessment_id)}/approval/request"


def approval_decision(assessment_id: str) -> str:
    """Where the review page's decision form posts."""
    return f"{assessment(assessment_id)}/approval/decision"


def comments(assessment_id: str) -> str:
    """Where a comment form posts."""
    return f"{assessment(assessment_id)}/comments"


def comment_edit(assessment_id: str, comment_id: int) -> str:
    """Where a comment's edit form posts."""
    return f"{comments(assessment_id)}/{comment_id}/edit"


def comment_delete(assessment_id: str, comment_id: int) -> str:
    """Where a comment's delete form posts."""
    return f"{comments(assessment_id)}/{comment_id}/delete"


def milestones(assessment_id: str) -> str:
    """Where the milestone form posts."""
    return f"{assessment(assessment_id)}/milestones"


def redecide(assessment_id: str) -> str:
    """Where the "decide again under the current ruleset" form posts."""
    return f"{assessment(assessment_id)}/redecide"


def diff(assessment_id: str, before: str | None = None, after: str | None = None) -> str:
    """The diff page between two points (revision numbers, `current`, or `m<id>`)."""
    pairs = [(k, v) for k, v in (("from", before), ("to", after)) if v is not None]
    return _with(f"{assessment(assessment_id)}/diff", query(pairs))


def reviews() -> str:
    """The signed-in user's "waiting for your review" list."""
    return REVIEWS


def reviews_count() -> str:
    """The header's count of reviews waiting (an htmx fragment)."""
    return f"{REVIEWS}/count"


def review_settings(team_id: str) -> str:
    """Where a team page's self-approval form posts."""
    return f"{team(team_id)}/review-settings"
