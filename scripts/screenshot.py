"""Regenerate docs/img/dashboard.png: the demo artist's dashboard over 12 months, as a
newcomer's `make run` shows it (`seed_demo --history 400` in a scratch SQLite database).

Run: .venv/bin/python scripts/screenshot.py   (Debian chromium; MVSIC_CHROMIUM to override)
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img" / "dashboard.png"
CHROMIUM = os.environ.get("MVSIC_CHROMIUM", "/usr/bin/chromium")
ARTIST, PASSWORD = "aurora-lanes", "mvsic-demo"  # the demo's published login


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="mvsic-screenshot-"))
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "MVSIC_MEDIA_ROOT": str(scratch / "media"),
        "MVSIC_SPOOL_DIR": str(scratch / "spool"),
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    subprocess.run([*manage, "seed_demo", "--history", "400"], env=env, check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            for _ in range(50):  # the server is up when the login page answers
                try:
                    page.goto(f"{base}/accounts/login/")
                    break
                except Exception:  # noqa: BLE001 - not listening yet
                    time.sleep(0.2)
            page.fill("input[name=username]", ARTIST)
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit], main input[type=submit]")
            page.goto(f"{base}/dashboard/{ARTIST}/?period=12m&compare=year")
            page.wait_for_timeout(1500)  # the chart draws after the page loads
            OUT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait()
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
