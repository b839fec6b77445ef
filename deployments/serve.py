"""Every pollflow deployment, with its schedule and event triggers, served from one process.

Run by ``pollflow serve`` (which starts a local Prefect server first unless PREFECT_API_URL names
one: Prefect's embedded API runs neither schedules nor, for other processes, triggers). The same
deployments for a Prefect server with a process work pool are in ``prefect.yaml``.

What reacts to what (the event-driven part):

- every 15 minutes, and whenever a poll is planned or its timetable changes: check-deadlines;
- 08:00 Europe/London: daily-digest;
- Mondays 07:30 Europe/London: canvass-report (each registration year in season, to the managers);
- 07:00 daily: recruit-staff (chasers, offers and deadlines for every poll whose staffing has
  started); Sundays 02:00: purge-staff-data (bank details and NI numbers past their keeping);
- hourly, and whenever a poll is planned or its timetable changes: produce-documents (a new
  version of each notice whose content changed, for proof-checking and sign-off);
- when work is completed or a statutory deadline is missed: deliver-outbox, so that the owners of
  unblocked work and the people a missed deadline escalates to hear at once.

Under a burst (issue 13: 200 completions started 200 flow-run processes, ~120 MB each, about 20
at once, and took 4 minutes to drain), three things bound the work:

- Each trigger fires at most once a window (``within=WINDOW``, 30 s, threshold 1, reactive: on
  the first event of a burst at once, then not again until the window has passed), so a burst
  makes one run a window per deployment, not one an event.
- The triggered deployments run one at a time (``concurrency_limit`` 1) and ENQUEUE the next:
  it waits, as a scheduled run with no process, for the running one to end. Windows already
  bound how many are made, so the queue is short, and nothing a window's events asked for is
  dropped. CANCEL_NEW would drop the next window's run when it comes while the last one is
  finishing (after its last look at the outbox), leaving that window's messages to the 15-minute
  check.
- The runner starts at most ``RUNNER_LIMIT`` flow-run processes at once (``serve(limit=...)``;
  Prefect's serve has no limit otherwise); the rest wait, scheduled, with no process.

What a window's later events announced is not lost: deliver-outbox keeps delivering until the
window of the event that started it has closed, then looks once more (flows/reactions.py). A
check-deadlines or produce-documents run looks at the store once, so a poll planned in the same
window after that look is checked by the 15-minute schedule and its notices redrawn by the
hourly one (planning is not in a hurry; its messages, once queued, go at the next delivery).
"""

from __future__ import annotations

from prefect.client.schemas.objects import ConcurrencyLimitConfig
from prefect.events import DeploymentEventTrigger
from prefect.schedules import Cron

TIMEZONE = "Europe/London"
# The most flow-run processes `pollflow serve` runs at once: one each for delivery, the deadline
# check and the notices, and one for anything else (about 120 MB each).
RUNNER_LIMIT = 4
# For the deployments events trigger: one run at a time, the next one queued behind it.
ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy="ENQUEUE")


def deployments() -> list:
    from flows.check_deadlines import check_deadlines
    from flows.daily_digest import daily_digest
    from flows.plan_election import plan_election
    from flows.produce_documents import produce_all_documents
    from flows.reactions import WINDOW, deliver_now
    from flows.recruit_staff import purge_staff_data, recruit_staff
    from flows.replan import replan
    from flows.run_canvass import canvass_report, run_canvass

    timetable_changed = DeploymentEventTrigger(
        name="when a poll is planned or its timetable changes",
        expect={"pollflow.election.planned", "pollflow.timetable.changed"},
        match={"prefect.resource.id": "pollflow.poll.*"},
        posture="Reactive",
        threshold=1,
        within=WINDOW,
    )

    return [
        plan_election.to_deployment(name="plan-election", tags=["pollflow"]),
        replan.to_deployment(name="replan", tags=["pollflow"]),
        check_deadlines.to_deployment(
            name="check-deadlines",
            tags=["pollflow"],
            schedules=[Cron("*/15 * * * *", timezone=TIMEZONE)],
            triggers=[timetable_changed],
            concurrency_limit=ONE_AT_A_TIME,
        ),
        daily_digest.to_deployment(
            name="daily-digest", tags=["pollflow"], schedules=[Cron("0 8 * * *", timezone=TIMEZONE)]
        ),
        recruit_staff.to_deployment(
            name="recruit-staff",
            tags=["pollflow", "staff"],
            schedules=[Cron("0 7 * * *", timezone=TIMEZONE)],
        ),
        purge_staff_data.to_deployment(
            name="purge-staff-data",
            tags=["pollflow", "staff"],
            schedules=[Cron("0 2 * * 0", timezone=TIMEZONE)],
        ),
        produce_all_documents.to_deployment(
            name="produce-documents",
            tags=["pollflow", "documents"],
            schedules=[Cron("5 * * * *", timezone=TIMEZONE)],
            triggers=[timetable_changed],
            concurrency_limit=ONE_AT_A_TIME,
        ),
        run_canvass.to_deployment(name="run-canvass", tags=["pollflow", "canvass"]),
        canvass_report.to_deployment(
            name="canvass-report",
            tags=["pollflow", "canvass"],
            schedules=[Cron("30 7 * * 1", timezone=TIMEZONE)],
        ),
        deliver_now.to_deployment(
            name="deliver-outbox",
            tags=["pollflow"],
            triggers=[
                DeploymentEventTrigger(
                    name="deliver when work is completed or a deadline is missed",
                    expect={"pollflow.workitem.completed", "pollflow.deadline.missed"},
                    posture="Reactive",
                    threshold=1,
                    within=WINDOW,
                    parameters={
                        "reason": "{{ event.event }} on {{ event.resource.id }}",
                        "since": "{{ event.occurred.isoformat() }}",
                    },
                )
            ],
            concurrency_limit=ONE_AT_A_TIME,
        ),
    ]


def main() -> None:
    from prefect import serve

    serve(*deployments(), limit=RUNNER_LIMIT)


if __name__ == "__main__":
    main()
