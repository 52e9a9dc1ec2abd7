"""Settings for the test suite: the production settings with test-only relaxations."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("STATIC_FROM_FINDERS", "true")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# Threads in the race tests open their own connections: close them after each request.
os.environ.setdefault("CONN_MAX_AGE", "0")

from clinic.settings import *  # noqa: F403

# Hashing passwords properly is slow on purpose; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
LANGUAGE_CODE = "en"
# Tasks run inline in tests (a worker is not part of the suite); the broker
# path through Redis is tested on its own in tests/clinic/test_jobs.py.
CELERY_TASK_ALWAYS_EAGER = True

# pytest-xdist runs the suite in several processes; each gets a Redis
# database of its own, since a test's cache.clear() empties the whole database
# (throttle counters of another process's test included).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
# ... and a queue of its own, so a test's Celery worker takes only its tasks.
CELERY_TASK_DEFAULT_QUEUE = f"celery-{_worker or 'main'}"
if REDIS_URL and _worker.startswith("gw"):  # noqa: F405
    _database = 1 + int(_worker[2:])
    CACHES["default"]["LOCATION"] = REDIS_URL.rsplit("/", 1)[0] + f"/{_database}"  # noqa: F405
