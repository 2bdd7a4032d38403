from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from opsdesk.core.choices import JobStatus
from opsdesk.core.models import Job, Schedule
from opsdesk.core.scheduler import next_run, run_due_schedules, schedule_fire, schedules_sync
from tests.core import tasks_for_tests

pytestmark = pytest.mark.django_db(transaction=True)


def run_queued_tasks() -> None:
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def test_a_successful_run_leaves_a_job_with_its_log_and_timings():
    result = tasks_for_tests.add.enqueue(2, 3)
    run_queued_tasks()
    job = Job.objects.get(task_result_id=str(result.id))
    assert job.status == JobStatus.SUCCEEDED
    assert job.name == "tests.core.tasks_for_tests.add"
    assert "adding 2 and 3" in job.log
    assert job.started_at <= job.finished_at
    assert job.arguments == {"args": [2, 3], "kwargs": {}}
    assert tasks_for_tests.add.get_result(result.id).return_value == 5


def test_a_failed_run_keeps_the_error_and_the_log():
    result = tasks_for_tests.explode.enqueue("disk full")
    run_queued_tasks()
    job = Job.objects.get(task_result_id=str(result.id))
    assert job.status == JobStatus.FAILED
    assert "RuntimeError: disk full" in job.error
    assert "about to fail" in job.log
    assert DBTaskResult.objects.get(id=result.id).status == "FAILED"


def make_schedule(**fields) -> Schedule:
    defaults = {
        "name": "add-every-5",
        "task": "tests.core.tasks_for_tests.add",
        "cron": "*/5 * * * *",
        "kwargs": {"a": 1, "b": 1},
        "next_run_at": datetime(2026, 1, 1, 10, 0, tzinfo=UTC),
    }
    return Schedule.objects.create(**{**defaults, **fields})


def test_a_due_schedule_enqueues_its_task_and_moves_to_the_next_slot():
    schedule = make_schedule()
    now = datetime(2026, 1, 1, 10, 2, tzinfo=UTC)
    assert run_due_schedules(now=now) == ["add-every-5"]
    schedule.refresh_from_db()
    assert schedule.next_run_at == datetime(2026, 1, 1, 10, 5, tzinfo=UTC)
    assert schedule.last_run_at == now
    assert DBTaskResult.objects.filter(task_path="tests.core.tasks_for_tests.add").count() == 1


def test_a_run_claimed_by_another_process_is_not_fired_twice():
    schedule = make_schedule()
    slot, now = schedule.next_run_at, datetime(2026, 1, 1, 10, 2, tzinfo=UTC)
    # Two schedulers read the same due slot; the second one's compare-and-set finds it moved.
    assert schedule_fire(pk=schedule.pk, slot=slot, now=now) == "add-every-5"
    assert schedule_fire(pk=schedule.pk, slot=slot, now=now) is None
    assert DBTaskResult.objects.count() == 1


def test_disabled_and_future_schedules_do_not_fire():
    make_schedule(name="off", enabled=False)
    make_schedule(name="later", next_run_at=datetime(2026, 1, 2, tzinfo=UTC))
    assert run_due_schedules(now=datetime(2026, 1, 1, 12, tzinfo=UTC)) == []


def test_a_schedule_naming_a_missing_task_is_skipped_without_stopping_the_others():
    make_schedule(name="broken", task="opsdesk.nowhere.task")
    make_schedule(name="fine")
    assert run_due_schedules(now=datetime(2026, 1, 1, 10, 1, tzinfo=UTC)) == ["fine"]


def test_built_in_schedules_are_created_once_and_keep_admin_edits():
    assert schedules_sync() >= 1
    prune = Schedule.objects.get(name="prune-finished-jobs")
    prune.cron = "0 4 * * *"
    prune.save()
    assert schedules_sync() == 0
    prune.refresh_from_db()
    assert prune.cron == "0 4 * * *"


def test_old_finished_jobs_are_pruned_by_the_built_in_task():
    old = Job.objects.create(name="x", status=JobStatus.SUCCEEDED)
    Job.objects.filter(pk=old.pk).update(finished_at=datetime.now(UTC) - timedelta(days=40))
    recent = Job.objects.create(name="y", status=JobStatus.SUCCEEDED, finished_at=datetime.now(UTC))
    from opsdesk.core.tasks import prune_finished_jobs

    prune_finished_jobs.enqueue()
    run_queued_tasks()
    assert not Job.objects.filter(pk=old.pk).exists()
    assert Job.objects.filter(pk=recent.pk).exists()


def test_next_run_follows_the_cron_expression_in_utc():
    assert next_run("0 3 * * *", datetime(2026, 3, 29, 2, 30, tzinfo=UTC)) == datetime(
        2026, 3, 29, 3, 0, tzinfo=UTC
    )
