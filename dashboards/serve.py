"""Start the dashboards: `python -m dashboards.serve [streamlit options]` (what `shopkeep dashboards` runs when
shopkeep.toml has an `[access]` section).

Streamlit's `st.login` reads its provider settings from an `[auth]` table of a secrets.toml file; shopkeep keeps
secrets only in the environment. So this launcher checks `[access]` (one line naming the key or the variable, exit
code 2), builds `[auth]` from it and the environment (`dashboards.access.auth_secrets`), writes it to a file only
this user can read (0600, in a fresh 0700 folder under the system's temp folder, never in the project), runs
`streamlit run dashboards/app.py --secrets.files <that file> [options]` as its child and deletes the folder when
the child ends. SIGTERM, SIGINT and SIGHUP are passed on to the child. Without `[access]` it runs Streamlit with
the options as given (no secrets file). Nothing is printed of a secret.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dashboards.access import access_config, auth_secrets
from dashboards.settings import SettingsError

APP = Path(__file__).resolve().parent / "app.py"


def secrets_toml(auth: Mapping[str, str]) -> str:
    """`[auth]` as TOML (strings written as JSON strings: a valid TOML basic string, every character escaped)."""
    return "[auth]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in auth.items())


def write_secrets(auth: Mapping[str, str]) -> Path:
    """A new private folder holding `secrets.toml` (0600) with `[auth]`; returns the file."""
    folder = Path(tempfile.mkdtemp(prefix="shopkeep-auth-"))  # mode 0700
    path = folder / "secrets.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets_toml(auth))
    return path


def main(argv: list[str] | None = None) -> int:
    options = list(sys.argv[1:] if argv is None else argv)
    try:
        config = access_config()
        auth = auth_secrets(config) if config is not None else None
    except SettingsError as exc:
        print(f"shopkeep dashboards: {exc}", file=sys.stderr)
        return 2
    secrets = write_secrets(auth) if auth else None
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), *options]
    if secrets is not None:
        cmd += ["--secrets.files", str(secrets)]
    children: list[subprocess.Popen] = []

    def forward(signum, _frame) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    try:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, forward)
        children.append(subprocess.Popen(cmd))
        return children[0].wait()
    finally:
        if secrets is not None:
            shutil.rmtree(secrets.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
