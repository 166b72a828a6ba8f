"""Who may submit, see and cancel a job (the contract's "who may" for jobs)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job
from app.services.access.core import (
    AssessmentNotFound,
    Caller,
    NotSignedIn,
    _check,
    has_accounts,
    require_status,
    signed_in,
)
from app.storage import hot


class JobNotFound(LookupError):
    """No job has that id, or the caller may not see it: the same 404."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with id {job_id!r}")
        self.job_id = job_id


def job_owner(*, session: Session, caller: Caller, assessment_id: str | None) -> str | None:
    """The owner a new job gets: the signed-in user (or None), once the caller may attach it
    to `assessment_id` (its key holder or team member; else `AssessmentNotFound`).

    A job without an assessment belongs to the signed-in user, or, on a server without
    accounts, to the local user (None); anyone else is asked to sign in (`NotSignedIn`).
    """
    if assessment_id is not None:
        require_status(session=session, caller=caller, assessment_id=assessment_id)
    user_id = signed_in(session=session, caller=caller)
    if assessment_id is None and user_id is None and has_accounts(session):
        raise NotSignedIn
    return user_id


def may_reach_job(*, session: Session, caller: Caller, job: Job) -> bool:
    """Whether the caller may see and cancel `job` (the contract's "who may" for jobs).

    The assessment's key holder or team members; the user who submitted it; and a job with
    neither assessment nor user is the local user's, reachable only on a server without
    accounts.
    """
    if job.assessment_id is not None:
        guarded = hot.assessment_status(session, job.assessment_id)
        try:
            _check(session, caller, guarded, job.assessment_id)
            return True
        except AssessmentNotFound:
            pass
    if job.owner_user_id is not None:
        return signed_in(session=session, caller=caller) == job.owner_user_id
    return job.assessment_id is None and not has_accounts(session)


def require_job(*, session: Session, caller: Caller, job_id: str, for_update: bool = False) -> Job:
    """The job's row if the caller may reach it; else `JobNotFound`, as for an unknown id."""
    query = select(Job).where(Job.id == job_id)
    if for_update:
        query = query.with_for_update()
    job = session.scalars(query).first()
    if job is None or not may_reach_job(session=session, caller=caller, job=job):
        raise JobNotFound(job_id)
    return job
