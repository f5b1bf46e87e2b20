"""Settings for the test suite: PostgreSQL and RabbitMQ on this machine unless told otherwise."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mvsic")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-" + "t" * 40)
os.environ.setdefault("MVSIC_EVENTS_QUEUE", f"mvsic.test.events.{os.getpid()}")
os.environ.setdefault("MVSIC_DEFAULT_QUEUE", f"mvsic.test.default.{os.getpid()}")
os.environ.setdefault("MVSIC_SPOOL_DIR", f"/tmp/mvsic-test-spool-{os.getpid()}")  # noqa: S108

from mvsic.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A database of its own per run, so concurrent runs on one machine never collide.
DATABASES["default"]["TEST"] = {"NAME": f"test_mvsic_{os.getpid()}"}  # noqa: F405

# Django's test client logs in without a request, which django-axes needs; the lockout tests
# switch it on.
AXES_ENABLED = False
