"""`make audit-http`: the graphql-http audit suite (`auditServer`, the GraphQL-over-HTTP
spec's conformance checks) against a real `loyalty serve`, then Apollo Client's persisted
queries sent with GET.

Starts the server in development mode (the audit asks for `__type`, which production hides)
on a free port and a fresh SQLite file with the demo programme, runs
scripts/audit-http/audit.mjs with the machine's Node against it (every audit that is not ok,
and the counts), then scripts/audit-http/apollo.mjs (Apollo Client 3, `useGETForHashedQueries`,
with the demo storefront key). Fails if either does. Needs Node 18 or newer; installs the
pinned npm packages (package-lock.json) into scripts/audit-http/ the first time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from tests.fixtures.servers import PROJECT, loyalty, loyalty_env, loyalty_server

AUDIT = PROJECT / "scripts" / "audit-http"
PACKAGES = ("graphql-http", "@apollo/client")


def main() -> int:
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("make audit-http needs Node 18 or newer (node and npm on PATH)", file=sys.stderr)
        return 2
    if not all((AUDIT / "node_modules" / name).exists() for name in PACKAGES):
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
        loyalty(env, "seed-demo", "--members", "5")
        keys = dict(line.split("=", 1) for line in (data_dir / "demo-keys.env").read_text().split())
        with loyalty_server(env, data_dir / "server.log") as base:
            audit = subprocess.run(["node", "audit.mjs", f"{base}/graphql"], cwd=AUDIT)
            storefront = keys["LOYALTY_STOREFRONT_KEY"]
            apollo = subprocess.run(
                ["node", "apollo.mjs", f"{base}/graphql", storefront], cwd=AUDIT
            )
    return audit.returncode or apollo.returncode


if __name__ == "__main__":
    sys.exit(main())
