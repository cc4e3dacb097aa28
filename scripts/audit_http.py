"""`make audit-http`: the graphql-http audit suite (`auditServer`, the GraphQL-over-HTTP
spec's conformance checks) against a real `loyalty serve`.

Starts the server in development mode (the audit asks for `__type`, which production hides)
on a free port and a fresh SQLite file, runs scripts/audit-http/audit.mjs with the machine's
Node against it, and prints every audit that is not ok and the counts. Needs Node 18 or
newer; installs the pinned npm packages (package-lock.json) into scripts/audit-http/ the
first time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from tests.fixtures.servers import PROJECT, loyalty, loyalty_env, loyalty_server

AUDIT = PROJECT / "scripts" / "audit-http"


def main() -> int:
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("make audit-http needs Node 18 or newer (node and npm on PATH)", file=sys.stderr)
        return 2
    if not (AUDIT / "node_modules" / "graphql-http").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=AUDIT, check=True)
    with tempfile.TemporaryDirectory(prefix="loyalty-audit-") as tmp:
        data_dir = Path(tmp)
        env = loyalty_env(
            LOYALTY_DATABASE_URL=f"sqlite://{data_dir / 'audit.sqlite3'}",
            LOYALTY_DATA_DIR=str(data_dir),
            LOYALTY_MODE="development",
            LOYALTY_JWT_SECRET=uuid.uuid4().hex * 2,
            LOYALTY_LOG_LEVEL="WARNING",
        )
        loyalty(env, "migrate")
        with loyalty_server(env, data_dir / "server.log") as base:
            done = subprocess.run(["node", "audit.mjs", f"{base}/graphql"], cwd=AUDIT)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
