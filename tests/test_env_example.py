"""`.env.example` is the one list of settings: it names every variable the code reads."""

import re

from tests.conftest import ROOT

# Where variables are read: settings, gunicorn, the Procfile and the service scripts.
SOURCES = [
    *sorted(ROOT.glob("mvsic/settings/*.py")),
    "gunicorn.conf.py",
    "Procfile",
    *sorted(ROOT.glob("scripts/*.sh")),
]
READ = re.compile(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"|\$\{([A-Z][A-Z0-9_]+)[:}-]')
LISTED = re.compile(r"^# ?([A-Z][A-Z0-9_]+)=", re.MULTILINE)
NOT_SETTINGS = {"HONCHO_PROCESS_NAME"}  # honcho sets it for each process it starts
MAKE_VARIABLES = {"TEST_DATABASE_URL"}  # read by the Makefile, listed for completeness


def test_env_example_lists_every_variable_the_code_reads():
    read = set()
    for source in SOURCES:
        for match in READ.finditer((ROOT / source).read_text()):
            read.add(match.group(1) or match.group(2))
    listed = set(LISTED.findall((ROOT / ".env.example").read_text()))
    assert "DJANGO_SECRET_KEY" in read and "PORT" in read  # the patterns still find reads
    assert read - NOT_SETTINGS - listed == set(), "read by the code, missing from .env.example"
    assert listed - read - MAKE_VARIABLES == set(), "listed in .env.example, read by nothing"
