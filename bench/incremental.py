"""The incremental load (issue 17.2): after a full load, the plugin's default
load reads only the tasks changed since (``backend/incremental.py``); this
measures it against a full reload (``full=True``) of the same state.

The plugin requests the workload (local storage), the annotator accepts every
prediction, and the plugin loads everything once (``first load``). Then the
annotator edits ``changed`` tasks through the REST API (``annotator.edit_tasks``,
``mixed``: boxes moved, deleted and drawn). Per repeat, two clones of the
dataset as it stands then (each with the run and what its last load read)
are loaded, one incrementally and one in full, in alternating order, each in
a worker of its own (``measure.py``: seconds, peak RSS, and the HTTP requests
and bytes received from Label Studio). Each load is checked against the
annotator's edits (``Bench.check_load``), and the two clones' labels against
each other, raw, ids included.
"""

from __future__ import annotations

import os

import annotator
import report

LOADS = {"load (incremental)": False, "load (full=True)": True}
"""The compared loads' phase names and their ``full`` argument."""


def run(bench, size: int, changed: int, repeats: int, profile_dir=None, timers=None) -> list[dict]:
    """Measures the workload (see the module); returns its table rows.
    ``profile_dir``, ``timers``: profile the compared loads (see
    ``Bench.profile``; pyinstrument sessions at :func:`profile_path`)."""
    workload = workload_of(bench.workloads.Workload, size, changed, repeats)
    dataset, floor_tasks = bench.make_data(workload)
    context = bench.context(workload, dataset.name, floor_tasks)
    runs: dict[str, list] = {"request": [], "first load (full)": [], **{p: [] for p in LOADS}}

    def measure(key, target, edits=None, **extra):
        phase = "request" if key == "request" else "load"
        profile = None
        if profile_dir and key in LOADS:  # Bench.measure names the file by workload and phase
            profile = os.path.dirname(profile_path(profile_dir, key, workload))
            os.makedirs(profile, exist_ok=True)
        result = bench.measure(
            workload, ("plugin", phase), phase, {**context, "dataset": target.name, **extra},
            profile, timers if key in LOADS else None, target, edits,
        )  # fmt: skip
        runs[key].append(result)
        bench.say(f"{workload.name}: {key:18} {_outcome(result)}")
        return "error" not in result

    try:
        if measure("request", dataset):
            context["project_id"] = runs["request"][0]["output"]["project_id"]
            accepted = annotator.annotate(bench.rest, bench.label_studio, context["project_id"], "accept", None, workload.media_size)  # fmt: skip
            bench.say(f"  annotator: {accepted['detail']}")
        if "project_id" in context and measure("first load (full)", dataset, accepted):
            edits = annotator.edit_tasks(bench.rest, context["project_id"], "mixed", changed, workload.media_size)  # fmt: skip
            bench.say(f"  annotator: {edits['detail']}")
            for repeat in range(repeats):
                loaded = {}
                for phase in list(LOADS)[:: 1 if repeat % 2 == 0 else -1]:  # each goes first
                    full = LOADS[phase]
                    name = f"{'full' if full else 'incremental'}{repeat + 1}-{workload.slug}"
                    clone = dataset.clone(name, persistent=True)
                    try:
                        if measure(phase, clone, edits, full=full):
                            loaded[phase] = labels(clone, workload.label_field)
                            said = runs[phase][-1]["output"].get("incremental")
                            if said == full:
                                runs[phase][-1]["error"] = f"wrong load: incremental={said}"
                    finally:
                        clone.delete()
                if len(loaded) == 2 and len({repr(v) for v in loaded.values()}) > 1:
                    for phase in LOADS:
                        runs[phase][-1]["error"] = "wrong load: the two loads left different labels"
    finally:
        bench.rest.delete_every_project()
        dataset.delete()
    rows = [report.summarize(workload, "plugin", phase, runs[phase]) for phase in runs]
    return [row for row in rows if row["runs"]]


def workload_of(Workload, size: int, changed: int, repeats: int):
    """The workload (``Workload`` is ``workloads.Workload``)."""
    return Workload(
        f"incremental {size:,} local storage, {changed} tasks changed",
        size, "detections", "local_storage", ("plugin",), ("request", "load"), repeats,
    )  # fmt: skip


def profile_path(profile_dir: str, phase: str, workload) -> str:
    """Where a compared load's pyinstrument session goes."""
    mode = "full" if LOADS[phase] else "incremental"
    return os.path.join(profile_dir, mode, f"{workload.slug}-load.pyisession")


def labels(dataset, field: str) -> dict:
    """``{sample id: the field's stored document}``, ids included."""
    return dict(zip(*dataset.values(["id", field], _raw=True)))


def _outcome(result: dict) -> str:
    if "error" in result:
        return f"FAILED {result['error']}"
    http = result.get("http", {})
    return (
        f"{result['seconds']:.2f} s, peak {result['peak_mb']:.0f} MB, "
        f"{http.get('requests')} requests, {http.get('received_bytes', 0) / 1e6:.2f} MB received, "
        f"{result.get('output', '')}"
    )[:300]
