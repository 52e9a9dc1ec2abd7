"""The Celery application.

Configured from Django settings (`CELERY_*`), whose broker is `REDIS_URL`; with
no `REDIS_URL` the tasks run inline (`task_always_eager`), so a laptop needs no
broker. Tasks receive ids, never model instances, and open the tenant scope
themselves (see `clinic.jobs`).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
