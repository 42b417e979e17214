"""The test infrastructure itself: private database, real Label Studio, import hook."""

import json
import os
import subprocess
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")


def _get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_fiftyone_uses_the_private_mongod(mongod, dataset):
    import fiftyone as fo
    import fiftyone.core.odm.database as fod

    assert fo.config.database_uri == mongod.uri == os.environ["FIFTYONE_DATABASE_URI"]
    assert fod.get_db_client().address == ("127.0.0.1", mongod.port)
    assert dataset.name in fo.list_datasets()
    assert not dataset.persistent


def test_dataset_fixture_gives_a_fresh_dataset(dataset):
    import fiftyone as fo

    assert len(dataset) == 0
    dataset.add_sample(fo.Sample(filepath="/tmp/nothing.jpg"))
    assert len(dataset) == 1


def test_isolated_fiftyone_config():
    import fiftyone as fo
    import fiftyone.plugins as fop

    tmp_plugins = os.environ["FIFTYONE_PLUGINS_DIR"]
    assert fo.config.plugins_dir == tmp_plugins
    assert os.listdir(tmp_plugins) == ["@annotate"]
    assert os.path.realpath(
        os.path.join(tmp_plugins, "@annotate", "labelstudio")
    ) == os.path.realpath(ROOT)
    assert "@annotate/labelstudio" in [p.name for p in fop.list_plugins(enabled="all")]

    # the backend, by configuration, as users set it up (nothing written)
    config_cls = fo.annotation_config.backends["labelstudio"]["config_cls"]
    assert config_cls == "fiftyone_labelstudio.LabelStudioBackendConfig"
    assert not os.path.exists(os.environ["FIFTYONE_ANNOTATION_CONFIG_PATH"])


def test_label_studio_health_and_pat(label_studio):
    from label_studio_sdk import LabelStudio

    status, _ = _get(label_studio.url + "/health")
    assert status == 200
    assert os.path.isdir(label_studio.document_root)

    user = LabelStudio(base_url=label_studio.url, api_key=label_studio.pat).users.whoami()
    assert user.email == label_studio.username

    status, body = _get(
        label_studio.url + "/api/current-user/whoami",
        {"Authorization": f"Token {label_studio.pat}"},
    )
    assert status == 401, body[:500]  # a PAT is not a legacy token


def test_legacy_token_needs_enabling(label_studio):
    from label_studio_sdk import LabelStudio

    url = label_studio.url + "/api/current-user/whoami"
    legacy = {"Authorization": f"Token {label_studio.legacy_token}"}

    status, body = _get(url, legacy)
    assert status == 401, body[:500]
    assert "legacy" in body.lower()

    label_studio.set_legacy_tokens(True)
    try:
        status, body = _get(url, legacy)
        assert status == 200, body[:500]
        assert json.loads(body)["email"] == label_studio.username
        user = LabelStudio(
            base_url=label_studio.url, api_key=label_studio.legacy_token
        ).users.whoami()
        assert user.email == label_studio.username
    finally:
        label_studio.set_legacy_tokens(False)
    status, _ = _get(url, legacy)
    assert status == 401


def test_mint_another_pat(label_studio):
    from label_studio_sdk import LabelStudio

    first = label_studio.pat
    try:
        pat = label_studio.mint_pat()
        assert pat != first
        assert (
            LabelStudio(base_url=label_studio.url, api_key=pat).users.whoami().email
            == label_studio.username
        )
    finally:
        label_studio.pat = first


def test_the_package_imports_in_a_fresh_process(tmp_path):
    """Annotation runs re-import the plugin's classes by name in any process;
    with the session's settings, nothing lands in the user's home."""
    name = "fiftyone_labelstudio.conversions"
    result = subprocess.run(
        [VENV_PYTHON, "-c", f"import {name} as c; print(c.__file__)"],
        env={**os.environ, "HOME": str(tmp_path)},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip().splitlines()[-1]
    assert os.path.realpath(path).startswith(os.path.realpath(ROOT) + os.sep), path
    assert list(tmp_path.iterdir()) == []  # e.g. no ~/.config/matplotlib


def test_label_studio_runs_on_the_chosen_database(label_studio):
    """LABEL_STUDIO_DATABASE=postgresql really puts Label Studio on PostgreSQL."""
    wanted = os.environ.get("LABEL_STUDIO_DATABASE", "").strip().lower() or "sqlite"
    assert label_studio.database == wanted

    shown = label_studio.django_shell(
        "import json\n"
        "from django.db import connection\n"
        "from users.models import User\n"
        "emit(json.dumps([connection.vendor, str(connection.settings_dict['NAME']),"
        f" User.objects.filter(email={label_studio.username!r}).exists()]))\n"
    )
    vendor, name, has_admin = json.loads(shown)
    assert vendor == wanted
    assert name == label_studio.database_name
    assert has_admin  # the server's own database, not just the shell's
    if wanted == "postgresql":
        assert label_studio.env["POSTGRE_HOST"] == "127.0.0.1"
        assert not os.path.exists(os.path.join(label_studio.data_dir, "label_studio.sqlite3"))


def test_the_setup_writes_nothing_in_the_users_home(tmp_path):
    """scripts/install.sh (what CI and the demo run first) leaves FiftyOne's
    settings in the user's home alone: no annotation config, no .fiftyone."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIFTYONE_")}
    env.update(HOME=str(home), PIP_CACHE_DIR=str(tmp_path / "pip-cache"))
    done = subprocess.run(
        ["bash", "scripts/install.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert not (home / ".fiftyone").exists()
    assert list(home.rglob("annotation_config.json")) == []


def test_the_conversion_benchmark_runs_and_writes_nothing_in_the_users_home(tmp_path):
    """bench/convert.py (no server, no database) times its three workloads,
    with FiftyOne's settings in a directory of its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FIFTYONE_") and k != "MPLCONFIGDIR"  # the session's own
    }
    env["HOME"] = str(tmp_path)
    done = subprocess.run(
        [VENV_PYTHON, os.path.join(ROOT, "bench", "convert.py"), "--repeats", "1"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split("|")[1].strip() for line in done.stdout.splitlines() if line[:2] == "| "]
    assert rows == ["workload", "accept", "review", "mixed"], done.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_file_written_in_the_home_directory_is_found(tmp_path):
    """The session's end check (conftest.pytest_sessionfinish) finds what a
    test wrote under the home directory, and nothing older."""
    import time

    from conftest import written_in_home

    old = tmp_path / ".cache" / "pip" / "old"
    old.parent.mkdir(parents=True)
    old.write_text("")
    os.utime(old, (0, 0))
    since = time.time() - 1
    new = tmp_path / ".config" / "chromium" / "Crash Reports" / "settings.dat"
    new.parent.mkdir(parents=True)
    new.write_text("")
    (tmp_path / "elsewhere.txt").write_text("")  # not in a directory programs write to
    assert written_in_home(since, str(tmp_path)) == [str(new)]


def test_the_export_reads_benchmark_runs(tmp_path):
    """bench/export_reads.py (its own Label Studio) reads every task each way."""
    done = subprocess.run(
        [VENV_PYTHON, os.path.join(ROOT, "bench", "export_reads.py"), "--tasks", "30", "--repeats", "1"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split("|")[1].strip() for line in done.stdout.splitlines() if line[:2] == "| "]
    assert rows[:3] == ["read", "export", "snapshot"] and len(rows) == 7, done.stdout


def test_the_package_lists_what_it_offers():
    """Tab completion finds the functions the package loads when asked for."""
    import fiftyone_labelstudio as fols

    assert {"annotate", "load_annotations", "LabelStudioBackendConfig"} <= set(dir(fols))
