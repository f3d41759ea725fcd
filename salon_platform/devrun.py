"""`make run`: migrate, seed the demo salon, fill the signup pool, then start web, worker and beat
(the Procfile, through honcho). Ctrl-C stops them; the embedded database is stopped by
salon_platform.embedded_db, which wraps this script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("PORT", "8000")
    env.setdefault("DJANGO_SETTINGS_MODULE", "salon_platform.settings")
    # The Procfile names gunicorn and celery: find them in this virtualenv without activating it.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    (BASE_DIR / ".data").mkdir(exist_ok=True)
    python = sys.executable

    def manage(*args: str) -> None:
        subprocess.run([python, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)

    manage("migrate_schemas", "--noinput", "-v", "0")
    manage("seed_demo")
    manage("pool_refill")
    from tenants.management.commands.seed_demo import LOGINS

    domain = env.get("PLATFORM_DOMAIN", "localhost")
    port = env["PORT"]
    print("\n" + "=" * 72)
    print(f"  Public site and signup : http://{domain}:{port}/")
    print(f"  Demo salon (staff app) : http://demo.{domain}:{port}/")
    print(f"  Operator console       : http://{domain}:{port}/console/")
    print(f"  API docs               : http://demo.{domain}:{port}/api/v1/docs/")
    print(f"  Member centre (clients): http://demo.{domain}:{port}/member/  phone 13911112222 (王芳);")
    print("                           the texted code is printed in the worker's output")
    print("  Logins (username / password):")
    for who, where, username, password in LOGINS:
        print(f"    {who:<18} {where:<30} {username} / {password}")
    print("  Ctrl-C stops everything.")
    print("=" * 72 + "\n", flush=True)
    honcho = [python, "-m", "honcho", "start", "-f", str(BASE_DIR / "Procfile"), "-p", port]
    try:
        return subprocess.call(honcho, cwd=BASE_DIR, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salon_platform.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    sys.exit(main())
