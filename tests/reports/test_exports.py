"""Exports over `EXPORT_ASYNC_ROWS` rows (R3): written by a Celery task with
its progress, kept for a while, served through a signed, expiring link to the
same organization's users who may export; inline without a broker."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from patients.models import AccessKind, AccessLog
from reports import exports
from reports.models import Export, ExportStatus
from tests.conftest import api_client, login
from tests.services import start_celery_worker


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    """Make a request and run what it queued on commit, as outside a test's
    transaction (the task runs inline: no broker here)."""

    def request(client, url: str, params: dict | None = None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.get(url, params or {}, **extra)

    return request


@pytest.fixture
def three_packages(patient, link):
    return [link(sessions=n, total=f"{100 * n}.00") for n in (2, 3, 4)]


def _rows(content: bytes) -> list[tuple]:
    from openpyxl import load_workbook

    return [row for row in load_workbook(BytesIO(content)).active.iter_rows(min_row=3, values_only=True)]


def _export(pk: int, organization_id: int) -> Export:
    with organization_scope(organization_id):
        return Export.objects.get(pk=pk)


@pytest.mark.django_db
def test_a_large_export_is_written_in_the_background_and_downloaded_by_its_signed_link(
    ask, alice, three_packages, media, settings
):
    settings.EXPORT_ASYNC_ROWS = 3
    client = login(alice)
    small = client.get("/reports/packages/", {"format": "xlsx", "status": "active"})
    assert small.status_code == 200  # 3 rows: written in the request
    settings.EXPORT_ASYNC_ROWS = 2
    response = ask(client, "/reports/packages/", {"format": "xlsx", "status": "active"})
    assert response.status_code == 302
    with organization_scope(alice.organization_id):
        export = Export.objects.get()
    assert response["Location"] == f"/reports/exports/{export.pk}/"
    # No broker in this test: the task ran inline, the file is ready on arrival.
    assert (export.status, export.rows_total, export.rows_done, export.params) == (
        "ready", 3, 3, {"status": ["active"]},
    )  # fmt: skip
    assert export.expires_at - export.finished_at == dt.timedelta(hours=settings.EXPORT_TTL_HOURS)
    assert export.file.name.startswith(f"exports/{alice.organization_id}/")
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'data-status="ready"' in page.content.decode()
    link = page.context["token"]
    download = client.get(f"/reports/exports/{export.pk}/download/", {"token": link})
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="packages-')
    content = b"".join(download.streaming_content)
    assert len(_rows(content)) == 3
    assert _rows(content) == _rows(small.content)  # the same file as written in the request
    with organization_scope(alice.organization_id):
        reads = AccessLog.objects.filter(user=alice, what=AccessKind.PACKAGE_REPORT).values_list("views", flat=True)
        assert sum(reads) == 2  # asked for twice (counted on one row per patient and period)
    index = client.get("/reports/")
    assert 'data-testid="recent-exports"' in index.content.decode()
    assert [e.pk for e in index.context["exports"]] == [export.pk]


@pytest.mark.django_db
def test_the_task_reports_its_progress_in_steps(ask, alice, patient, link, media, settings, monkeypatch):
    settings.EXPORT_ASYNC_ROWS = 2
    for n in range(5):
        link(sessions=1 + n, total="50.00")
    monkeypatch.setattr("reports.exporters.CHUNK", 2)
    with CaptureQueriesContext(connection) as context:
        response = ask(login(alice), "/reports/packages/", {"format": "xlsx"})
    assert response.status_code == 302
    progress = [
        re.search(r'"rows_done" = (\d+)', q["sql"]).group(1)
        for q in context.captured_queries if q["sql"].startswith('UPDATE "reports_export" SET "rows_done"')
    ]  # fmt: skip
    assert progress == ["2", "4"]  # every CHUNK rows, each committed for the page to read
    assert _export(int(response["Location"].split("/")[-2]), alice.organization_id).rows_done == 5


@pytest.mark.django_db
def test_the_signed_link_is_for_the_organization_that_may_export_and_expires(
    ask, alice, bob, charlie, three_packages, media, settings, monkeypatch
):
    settings.EXPORT_ASYNC_ROWS = 1
    client = login(alice)
    location = ask(client, "/reports/packages/", {"format": "xlsx"})["Location"]
    token = client.get(location).context["token"]
    export_id = int(location.rstrip("/").rsplit("/", 1)[1])
    url = f"/reports/exports/{export_id}/download/"
    assert client.get(url, {"token": token}).status_code == 200
    assert client.get(url, {"token": token + "x"}).status_code == 404  # tampered
    assert client.get(url).status_code == 404  # unsigned
    other = client.get(f"/reports/exports/{export_id + 1000}/download/", {"token": token})
    assert other.status_code == 404  # a signature names one export
    assert login(bob).get(url, {"token": token}).status_code == 403  # a receptionist may not export
    assert login(bob).get(location).status_code == 403
    foreign = login(charlie)
    assert foreign.get(url, {"token": token}).status_code == 404  # another organization
    assert foreign.get(location).status_code == 404
    assert b"Package report" not in foreign.get(location).content

    # A link older than EXPORT_TTL_HOURS is refused, with a message.
    past = int(time.time()) - settings.EXPORT_TTL_HOURS * 3600 - 5
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(past))
    old_link = exports.download_token(_export(export_id, alice.organization_id))
    monkeypatch.undo()
    gone = client.get(url, {"token": old_link})
    assert gone.status_code == 410
    assert "expired" in gone.content.decode()


@pytest.mark.django_db
def test_expired_files_are_deleted_and_their_links_answer_gone(ask, alice, three_packages, media, settings):
    settings.EXPORT_ASYNC_ROWS = 1
    client = login(alice)
    location = ask(client, "/reports/packages/", {"format": "xlsx"})["Location"]
    token = client.get(location).context["token"]
    export = _export(int(location.rstrip("/").rsplit("/", 1)[1]), alice.organization_id)
    path = Path(settings.MEDIA_ROOT) / export.file.name
    assert path.exists()
    assert exports.exports_purge(now=timezone.now()) == 0  # not yet
    assert exports.exports_purge(now=export.expires_at + dt.timedelta(seconds=1)) == 1
    assert not path.exists()
    export.refresh_from_db()
    assert (export.status, export.file.name) == ("expired", "")
    gone = client.get(f"/reports/exports/{export.pk}/download/", {"token": token})
    assert gone.status_code == 410
    assert 'data-status="expired"' in client.get(location).content.decode()


@pytest.mark.django_db
def test_a_failing_export_says_so(ask, alice, three_packages, media, settings, monkeypatch):
    settings.EXPORT_ASYNC_ROWS = 1

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setitem(exports.BUILDERS, "package_report", broken)
    client = login(alice)
    location = ask(client, "/reports/packages/", {"format": "xlsx"})["Location"]
    page = client.get(location)
    export = page.context["export"]
    assert (export.status, export.error) == ("failed", "RuntimeError: disk full")
    assert "The export failed" in page.content.decode()


@pytest.mark.django_db
def test_the_api_answers_202_then_the_export_and_its_download(ask, alice, charlie, three_packages, media, settings):
    settings.EXPORT_ASYNC_ROWS = 3
    client = api_client(alice)
    assert client.get("/api/v1/reports/packages.xlsx").status_code == 200  # 3 rows: at once
    settings.EXPORT_ASYNC_ROWS = 2
    accepted = ask(client, "/api/v1/reports/packages.xlsx")
    assert accepted.status_code == 202
    body = accepted.json()
    assert accepted["Location"] == f"/api/v1/exports/{body['id']}/"
    assert (body["kind"], body["rows_total"]) == ("package_report", 3)
    detail = client.get(accepted["Location"]).json()
    assert (detail["status"], detail["percent"]) == ("ready", 100)
    download = client.get(detail["download_url"])
    assert download.status_code == 200
    assert len(_rows(b"".join(download.streaming_content))) == 3
    assert [e["id"] for e in client.get("/api/v1/exports/").json()["results"]] == [body["id"]]

    foreign = api_client(charlie)
    assert foreign.get(accepted["Location"]).status_code == 404
    assert foreign.get(detail["download_url"]).json()["code"] == "not_found"
    assert foreign.get("/api/v1/exports/").json()["results"] == []
    tampered = client.get(f"/api/v1/exports/{body['id']}/download/", {"token": "nope"})
    assert (tampered.status_code, tampered.json()["code"]) == (404, "not_found")
    with organization_scope(alice.organization_id):
        Export.objects.filter(pk=body["id"]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    expired = client.get(detail["download_url"])
    assert (expired.status_code, expired.json()["code"]) == (410, "export_unavailable")


@pytest.mark.django_db
def test_a_patients_large_history_is_exported_in_the_background(ask, alice, patient, link, media, settings):
    settings.EXPORT_ASYNC_ROWS = 3
    link(sessions=2, total="100.00")
    link(sessions=3, total="100.00")  # 2 packages + 2 history rows (their links) = 4 rows
    client = login(alice)
    response = ask(client, f"/reports/patients/{patient.pk}/packages.xlsx")
    assert response.status_code == 302
    export = client.get(response["Location"]).context["export"]
    assert (export.kind, export.status, export.rows_total, export.params) == (
        "patient_packages", "ready", 4, {"patient": [str(patient.pk)]},
    )  # fmt: skip
    assert export.filename == f"packages-{patient.pk}.xlsx"


@pytest.mark.django_db(transaction=True)
def test_a_repeated_delivery_of_the_task_writes_the_file_once(alice, three_packages, media, settings):
    settings.EXPORT_ASYNC_ROWS = 1
    with organization_scope(alice.organization_id):
        export = Export.objects.create(
            organization_id=alice.organization_id, clinic=three_packages[0].clinic, requested_by=alice,
            kind="package_report", params={}, language="en", rows_total=3,
        )  # fmt: skip
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def deliver() -> None:
        barrier.wait()
        try:
            with organization_scope(alice.organization_id):
                results.append(exports.export_run(export.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert _export(export.pk, alice.organization_id).status == ExportStatus.READY
    assert len(list((Path(settings.MEDIA_ROOT) / "exports").rglob("*.xlsx"))) == 1

    # A claim left by a crashed worker is taken over once it is stale.
    with organization_scope(alice.organization_id):
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.RUNNING, started_at=timezone.now() - exports.STALE_AFTER - dt.timedelta(seconds=1)
        )
        assert exports.export_run(export.pk) is True
        Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, started_at=timezone.now())
        assert exports.export_run(export.pk) is False  # still running elsewhere


@pytest.fixture
def celery_worker(media: Path) -> Iterator[callable]:
    """Start a real Celery worker on the test database and Redis, on this
    test process's own queue; stopped before the database is flushed."""
    processes: list[subprocess.Popen] = []
    log = (media / "worker.log").open("w")  # read it when the test fails

    def start() -> None:
        processes.append(start_celery_worker(log, env={"MEDIA_ROOT": str(media)}))

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
    log.close()


def _wait_for(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


@pytest.mark.django_db(transaction=True)
def test_end_to_end_with_a_celery_worker_on_redis(alice, charlie, three_packages, celery_worker, settings):
    import redis

    from clinic.celery import app

    settings.EXPORT_ASYNC_ROWS = 2
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    app.conf.task_always_eager = False
    try:
        client = login(alice)
        location = client.get("/reports/packages/", {"format": "xlsx"})["Location"]
        page = client.get(location)
        assert page.context["export"].status == "queued"  # no worker yet: the task waits in Redis
        assert 'hx-trigger="every 1s"' in page.content.decode()  # the page polls its progress
        assert broker.llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 1
        celery_worker()
        export_id = page.context["export"].pk
        export = _wait_for(lambda: (e := _export(export_id, alice.organization_id)).finished and e)
    finally:
        app.conf.task_always_eager = True
    assert (export.status, export.rows_done) == ("ready", 3)
    ready = client.get(location, HTTP_HX_REQUEST="true")
    html = ready.content.decode()
    assert "every 1s" not in html
    assert 'data-testid="export-download"' in html
    download = client.get(f"/reports/exports/{export_id}/download/", {"token": ready.context["token"]})
    assert len(_rows(b"".join(download.streaming_content))) == 3
    assert login(charlie).get(f"/reports/exports/{export_id}/download/",
                              {"token": ready.context["token"]}).status_code == 404  # fmt: skip
    with scopes_disabled():
        assert Export.objects.count() == 1


@pytest.mark.django_db
def test_export_lists_read_in_constant_queries(alice, three_packages, media):
    def make(count: int) -> None:
        with organization_scope(alice.organization_id):
            for _ in range(count):
                Export.objects.create(
                    organization_id=alice.organization_id, clinic=three_packages[0].clinic, requested_by=alice,
                    kind="package_report", params={}, language="en", rows_total=3,
                )  # fmt: skip

    def queries(client, url: str) -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context.captured_queries)

    api, page = api_client(alice), login(alice)
    make(1)
    one = (queries(api, "/api/v1/exports/"), queries(page, "/reports/"))
    make(7)
    assert (queries(api, "/api/v1/exports/"), queries(page, "/reports/")) == one
    assert len(page.get("/reports/").context["exports"]) == 8
