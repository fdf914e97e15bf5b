"""Long work as a row any process may take (`work_jobs`): its kinds, states and parameters.

An export or a report over a long period is not done inside the update that asked for it: the
handler queues a job and any process's runner does it (`bot.services.jobs`). The parameters
are stored as JSON and read back through these models, so what the handler wrote is what the
runner reads.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from bot.domain.periods import Period


class JobKind(StrEnum):
    EXPORT = "export"  # the period's cases as XLSX and CSV, to the asker's private chat
    REPORT = "report"  # the period's summary and chart, where /report was typed


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: A person has at most one open job of each kind (a partial unique index holds it).
OPEN = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)
#: Tries of one job (a takeover after its holder died counts as one) before it fails for good.
MAX_ATTEMPTS = 3


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    start: AwareDatetime
    end: AwareDatetime
    period_key: str | None  # `Period.key`; None for a custom range (then `title` is set)
    title: str | None

    @property
    def period(self) -> Period | None:
        return Period.parse(self.period_key) if self.period_key else None


class ExportParams(_Params):
    include_phone: bool


class ReportParams(_Params):
    pass


JobParams = ExportParams | ReportParams


def read_params(kind: JobKind, stored: dict[str, object]) -> JobParams:
    """A stored job's parameters, checked against its kind."""
    model = ExportParams if kind is JobKind.EXPORT else ReportParams
    return model.model_validate(stored)
