"""The plugin's demo: a local Label Studio, a demo dataset and the FiftyOne App.

    bash scripts/demo.sh [--reset] [--exit] [--ls-port 8080] [--app-port 5151]

Starts Label Studio (admin@example.com, a password generated once) and the
FiftyOne App with the plugin, on 127.0.0.1; creates the dataset
"labelstudio-demo" in a FiftyOne database of the demo's own (its ``mongod``,
configs and plugins dir in ``.demo/``: nothing is written in your home);
writes ``.demo/env.sh`` for Python use; prints the URLs and credentials; stops
everything on Ctrl-C. Re-running reuses everything in ``.demo/`` (the dataset,
Label Studio's projects, the login and the API key). ``--reset`` starts
from scratch.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil  # a dependency of fiftyone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

ROOT = servers.ROOT
DEMO = os.path.join(ROOT, ".demo")
LS_DIR = os.path.join(DEMO, "labelstudio")
MEDIA = os.path.join(DEMO, "media")
IMAGES = os.path.join(MEDIA, "demo-images")
ENV_FILE = os.path.join(DEMO, "env.sh")
CREDENTIALS = os.path.join(DEMO, "credentials.json")
PIDS = os.path.join(DEMO, "pids.json")
APP_LOG = os.path.join(DEMO, "app.log")
DATASET = "labelstudio-demo"
USERNAME = "admin@example.com"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ls-port", type=int, default=8080, help="Label Studio's port, or the next free one (8080)"
    )
    parser.add_argument(
        "--app-port", type=int, default=5151, help="the App's port, or the next free one (5151)"
    )
    parser.add_argument("--reset", action="store_true", help="delete .demo/ and the dataset first")
    parser.add_argument(
        "--exit", dest="exit", action="store_true",
        help="set up, start and print, then stop the servers and exit (for scripted checks)",
    )  # fmt: skip
    return parser.parse_args()


# ------------------------------------------------------------------ helpers


def shown(path):
    """``path`` relative to the current directory when it lies below it."""
    return os.path.relpath(path) if path.startswith(os.getcwd() + os.sep) else path


def next_free_port(port):
    for candidate in range(port, port + 100):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
            try:
                s.bind(("127.0.0.1", candidate))
                return candidate
            except OSError:
                continue
    raise SystemExit(f"demo: no free port in {port}-{port + 99}")


def write_private(path, text):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def running(pid, needle):
    """Whether process ``pid`` is alive and its command line contains ``needle``."""
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        return needle in " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def check_previous_run():
    """Refuses to run twice; stops servers a killed demo left behind (by PID)."""
    pids = load_json(PIDS)
    if running(pids.get("demo"), "demo.py"):
        raise SystemExit(f"demo: already running (PID {pids['demo']}); stop it with Ctrl-C first")
    for name, needle in (
        ("app", "fiftyone.server.main"),
        ("labelstudio", "label-studio"),
        ("mongod", "mongod"),
    ):
        if running(pids.get(name), needle):
            print(f"Stopping the {name} server a previous demo left running (PID {pids[name]})")
            stop_group(pids[name])


def stop_group(pid, timeout=20):
    """SIGTERM to the process group of ``pid`` (a session leader), SIGKILL if it lingers."""
    try:
        process = psutil.Process(pid)
        os.killpg(pid, signal.SIGTERM)
        process.wait(timeout)
    except psutil.TimeoutExpired:
        os.killpg(pid, signal.SIGKILL)
    except (psutil.NoSuchProcess, ProcessLookupError):
        pass


def pat_is_valid(url, pat):
    request = urllib.request.Request(
        url + "/api/token/refresh/",
        data=json.dumps({"refresh": pat}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


# -------------------------------------------------------------------- steps


def prepare_dirs(reset):
    if reset and os.path.isdir(DEMO):
        print(f"Deleting {shown(DEMO)}")
        shutil.rmtree(DEMO)
    for path in (LS_DIR, IMAGES):
        os.makedirs(path, exist_ok=True)


def start_label_studio(port):
    credentials = load_json(CREDENTIALS)
    new_password = "password" not in credentials
    credentials.setdefault("password", secrets.token_urlsafe(12))
    write_private(CREDENTIALS, json.dumps(credentials, indent=2))
    existing = os.path.exists(os.path.join(LS_DIR, "label_studio.sqlite3"))

    port = next_free_port(port)
    print(
        f"Starting Label Studio on 127.0.0.1:{port} (up to a minute; log: {shown(LS_DIR)}/label-studio.log)"
    )
    ls = servers.start_label_studio(
        LS_DIR, MEDIA, port=port, username=USERNAME, password=credentials["password"]
    )
    record_pids(labelstudio=ls.pid)
    if new_password and existing:  # the user keeps the password of its first start
        ls.django_shell(
            f"from users.models import User\nu = User.objects.get(email={USERNAME!r})\n"
            f"u.set_password({credentials['password']!r})\nu.save()\nemit('ok')\n"
        )
    # start_label_studio minted a new token; keep the stored one while it works
    if not (credentials.get("pat") and pat_is_valid(ls.url, credentials["pat"])):
        credentials["pat"] = ls.pat
        write_private(CREDENTIALS, json.dumps(credentials, indent=2))
    return ls, credentials


# (matplotlib, which fiftyone imports, else makes ~/.config/matplotlib)
ISOLATION = ("PYTHONPATH", "MPLCONFIGDIR")


def write_env(ls, pat):
    env = {
        "FIFTYONE_LABELSTUDIO_URL": ls.url,
        "FIFTYONE_LABELSTUDIO_API_KEY": pat,
        "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": MEDIA,
        "FIFTYONE_ANNOTATION_DEFAULT_BACKEND": "labelstudio",
        # the demo's own FiftyOne (servers.isolate_fiftyone): its database
        # (while the demo runs), configs, plugins dir and the plugin's package
        **{k: v for k, v in os.environ.items() if k in ISOLATION or k.startswith("FIFTYONE_")},
    }
    lines = [
        "# Written by scripts/demo.py: the demo's Label Studio for FiftyOne and the plugin.",
        f"# Use: source {shown(ENV_FILE)}  (then run .venv/bin/python)",
    ]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in env.items()]
    write_private(ENV_FILE, "\n".join(lines) + "\n")
    return env


def ensure_dataset(reset):
    """The demo dataset: kept across runs, (re)created when missing or on --reset."""
    import fiftyone as fo
    from demo_dataset import make_demo_dataset

    if not reset and fo.dataset_exists(DATASET):
        dataset = fo.load_dataset(DATASET)
        paths = dataset.values("filepath")
        if paths and all(p.startswith(IMAGES + os.sep) and os.path.isfile(p) for p in paths):
            print(f'Using the existing dataset "{DATASET}" ({len(dataset)} samples)')
            return dataset
    print(f'Creating the dataset "{DATASET}" ({shown(IMAGES)})')
    return make_demo_dataset(DATASET, IMAGES)


def start_app(port):
    port = next_free_port(port)
    # Without this variable (set by `import fiftyone` here) the App registers as
    # a client of FiftyOne's database service, which then outlives this process.
    env = {k: v for k, v in os.environ.items() if k != "FIFTYONE_PRIVATE_DATABASE_PORT"}
    env = servers.app_server_env(env)
    print(f"Starting the FiftyOne App on 127.0.0.1:{port} (log: {shown(APP_LOG)})")
    with open(APP_LOG, "ab") as log:
        app = subprocess.Popen(
            [sys.executable, "-m", "fiftyone.server.main", "--port", str(port), "--address", "127.0.0.1"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    record_pids(app=app.pid)
    url = f"http://127.0.0.1:{port}/datasets/{DATASET}"
    deadline = time.monotonic() + 120
    while servers._http_status(url, timeout=2) != 200:
        if app.poll() is not None or time.monotonic() > deadline:
            servers._stop_process(app, timeout=10, group=True)
            raise SystemExit(f"demo: the FiftyOne App did not start\n{servers._tail(APP_LOG)}")
        time.sleep(0.5)
    return app, url


def record_pids(**pids):
    write_private(PIDS, json.dumps({**load_json(PIDS), "demo": os.getpid(), **pids}))


def print_summary(app_url, ls, credentials, dataset):
    builtin = ("id", "filepath", "tags", "metadata", "created_at", "last_modified_at")
    fields = [f for f in dataset.get_field_schema() if f not in builtin]
    env_file = shown(ENV_FILE)
    print(
        f"""
FiftyOne + Label Studio demo
  FiftyOne App    {app_url}
  Label Studio    {ls.url}
    login         {USERNAME}  /  {credentials["password"]}
    API key       {credentials["pat"]}  (a personal access token)
  Dataset         "{DATASET}": {len(dataset)} samples; fields {", ".join(fields)}

In the App: press ` (backtick), run "Label Studio: request annotations".
From Python, while the demo runs (its database stops with it): source {env_file}, then in .venv/bin/python:
  import fiftyone as fo
  dataset = fo.load_dataset("{DATASET}")
  dataset.take(5).annotate("my_run", label_schema={{"ground_truth": {{"type": "detections"}}}}, launch_editor=True)
  dataset.load_annotations("my_run")  # once labelled in Label Studio
""",
        flush=True,
    )


def main():
    args = parse_args()
    for signum in STOP_SIGNALS:  # SIGINT too: a background job starts ignoring it
        signal.signal(signum, _raise_interrupt)
    os.makedirs(DEMO, exist_ok=True)
    check_previous_run()
    prepare_dirs(args.reset)
    record_pids()
    mongod = servers.isolate_fiftyone(DEMO, ROOT)
    record_pids(mongod=mongod.pid)
    ls = app = None
    try:
        ls, credentials = start_label_studio(args.ls_port)
        os.environ.update(write_env(ls, credentials["pat"]))
        dataset = ensure_dataset(args.reset)
        app, app_url = start_app(args.app_port)
        print_summary(app_url, ls, credentials, dataset)
        if args.exit:
            return 0
        print("Press Ctrl-C to stop the App and Label Studio.", flush=True)
        while True:
            for name, process in (("Label Studio", ls.process), ("The FiftyOne App", app)):
                if process.poll() is not None:
                    raise SystemExit(f"demo: {name} exited with code {process.returncode}")
            time.sleep(1)
    except KeyboardInterrupt:
        print()
        return 0
    finally:
        for signum in STOP_SIGNALS:  # a second Ctrl-C must not cut the cleanup short
            signal.signal(signum, signal.SIG_IGN)
        if app is not None or ls is not None:
            print("Stopping the FiftyOne App and Label Studio ...", flush=True)
        if app is not None:
            servers._stop_process(app, timeout=20, group=True)
        if ls is not None:
            ls.stop()
        database = sys.modules.get("fiftyone.core.odm.database")
        if database is not None:
            database._disconnect()  # before mongod stops, or pymongo waits at exit
        mongod.stop()
        if os.path.exists(PIDS):
            os.remove(PIDS)
        if app is not None or ls is not None:
            print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
