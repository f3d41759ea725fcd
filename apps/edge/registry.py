"""What the apps above edge can print through ``POST /api/v1/print-jobs/``: each registers a source (from
its AppConfig.ready) that builds and queues the job, so edge never imports them. The till registers
``bill`` (a bill's receipt) and ``cash_session`` (a handover report)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.core.models import User
from apps.edge.models import PrintJob


@dataclass(frozen=True)
class PrintSource:
    name: str
    # The role permission (apps.core.roles) needed to print from this source.
    permission: str
    # queue(pk=, copy=, printer=, idempotency_key=, acting_user=) -> PrintJob; raises LookupError when
    # nothing with that id exists, ServiceError when it cannot be printed.
    queue: Callable[..., PrintJob]
    # Whether ``acting_user`` may print this particular one (beyond ``permission``); None: anyone who has it.
    allowed: Callable[[int, User], bool] | None = None


_SOURCES: dict[str, PrintSource] = {}


def print_source_register(source: PrintSource) -> None:
    _SOURCES[source.name] = source


def print_source(name: str) -> PrintSource | None:
    return _SOURCES.get(name)


def print_source_names() -> list[str]:
    return sorted(_SOURCES)
