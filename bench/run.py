"""Benchmark: this plugin vs FiftyOne's built-in Label Studio backend vs bare
REST calls (the floor), on the same generated data and the same Label Studio.

    .venv/bin/python bench/run.py [--sizes 500,2000,10000] [--local-sizes 1000,10000]
        [--repeats 3] [--quick] [--only plugin,plugin-fiftyone,builtin,floor]
        [--match "review 1,000"] [--builtin-timeout 900] [--idle-limit 300] [--profile]

Everything is private to the run: a temporary mongod for FiftyOne (with the
plugin registered as the "labelstudio" backend, as in the tests) and one
Label Studio with legacy tokens on and its upload limits raised, so that the
built-in backend can run at all. Per workload, repeat and contender, the
phases request, load, status and cleanup each run in a process of their own
(``measure.py``). Between request and load the annotator works (untimed, see
``annotator.py``): it accepts every prediction (``accept``), or also moves
one box per task (``review``), or moves 10% of the boxes, deletes 5% and
draws 5% more (``mixed``); every FiftyOne load is then checked against those
edits. Each contender but the floor works on its own clone of the workload's
dataset, since loading writes to it. The floor's load is each of Label
Studio's complete reads (``contenders.READS``), and the floor is the fastest;
the plugin's load is also set against the snapshot read of its own project
right before or after it (the paired floor), since the same read of another
project at another moment varies by half its time.

Two more rows: ``video 50x900 frames x10 tracks`` (mp4s made with ffmpeg;
frame-level detections, every frame a keyframe; the annotator moves the box
on one keyframe per track; FiftyOne's built-in backend takes no videos), and
``incremental 10,000`` (``incremental.py``: the plugin's default load after
a previous load, once 100 tasks changed, vs a full reload, with the HTTP
bytes each receives). ``--match "incremental|video"`` runs only those.

``--profile`` instead profiles the plugin's request and load (pyinstrument,
``pip install pyinstrument``) on the review workload at ``--local-sizes``
(default 1,000) and writes bench/results/profile-<date>/summary.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
PLUGIN_DIR = os.path.dirname(BENCH_DIR)
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
sys.path.insert(0, os.path.join(PLUGIN_DIR, "scripts"))

import annotator  # noqa: E402
import report  # noqa: E402
import servers  # noqa: E402
from contenders import ANNO_KEY, CONTENDERS, PAIRED_FLOOR, PHASES, READS, Rest  # noqa: E402
from measure import run_phase, wait_until_idle  # noqa: E402

OTHER_TIMEOUT = 3600.0
"""Seconds a phase of the plugin or the floor may take before it counts as failed."""

UPLOAD_LIMITS = {
    "DATA_UPLOAD_MAX_NUMBER_FILES": "1000000",
    "DATA_UPLOAD_MAX_MEMORY_SIZE": str(20 * 1024**3),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", help="sample counts of the uploaded-detections workloads, e.g. 500,2000,10000"
    )
    parser.add_argument(
        "--local-sizes",
        help="sample counts of the accept / review / mixed workloads (local storage), e.g. 1000,10000",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument(
        "--only", default=",".join(CONTENDERS), help="contenders, e.g. plugin,floor"
    )
    parser.add_argument(
        "--match",
        default="",
        help='only the workloads whose name matches this regular expression, e.g. "2,000" or '
        '"(accept|review|mixed) 1,000"; brush RLE runs only if it matches "brush RLE"',
    )
    parser.add_argument(
        "--builtin-timeout", type=float, default=900.0, help="seconds per builtin phase"
    )
    parser.add_argument(
        "--idle-limit",
        type=float,
        help="seconds to wait, before each phase, for the machine to be idle (default 300; --quick 5)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the plugin's request and load instead (needs pyinstrument)",
    )
    args = parser.parse_args(argv)
    args.only = [c for c in args.only.split(",") if c]
    if set(args.only) - set(CONTENDERS):
        parser.error(f"--only takes {', '.join(CONTENDERS)}")
    args.sizes = _sizes(args.sizes)
    args.local_sizes = _sizes(args.local_sizes)
    if args.quick:
        args.repeats = 1
    if args.idle_limit is None:
        args.idle_limit = 5.0 if args.quick else 300.0
    return args


def _sizes(text):
    return [int(s.replace("_", "").replace(",", "")) for s in text.split(",")] if text else None


def plan(args, workloads) -> list:
    """The workloads of this run (``workloads`` is the module)."""
    Workload = workloads.Workload
    quick = args.quick
    sizes = args.sizes or ([50] if quick else [500, 2000, 10000])
    local_sizes = args.local_sizes or ([50] if quick else [1000, 10000])
    local, instances, urls = 2000, 1000, 100_000
    everyone = tuple(c for c in CONTENDERS if c in args.only)
    no_builtin = tuple(c for c in everyone if c not in ("builtin", "plugin-fiftyone"))
    request_load = ("request", "load")
    planned = [
        Workload(
            f"detections {n:,} upload", n, "detections", "upload", everyone, PHASES, args.repeats
        )
        for n in sizes
    ]
    if not quick:  # the README's accept-all row with local storage, every phase
        planned.append(Workload(f"accept {local:,} local storage", local, "detections", "local_storage", everyone, PHASES, args.repeats))  # fmt: skip
    planned += [
        Workload(f"{edit} {n:,} local storage", n, "detections", "local_storage", everyone, request_load, args.repeats, edit)
        for n in local_sizes
        for edit in annotator.EDITS
    ]  # fmt: skip
    if not quick:  # a smoke run skips these
        planned += [
            Workload(f"instances {instances:,} upload", instances, "instances", "upload", everyone, PHASES, args.repeats),
            Workload(f"detections {urls:,} URLs", urls, "detections", "url", no_builtin, ("request", "cleanup"), 1),
        ]  # fmt: skip
    videos, frames = (2, 30) if quick else (50, 900)
    planned.append(Workload(f"video {videos}x{frames} frames x{workloads.TRACKS_PER_VIDEO} tracks local storage", videos, "detections", "local_storage", everyone, request_load, args.repeats, annotator.VIDEO_EDIT, frames))  # fmt: skip
    return [w for w in planned if w.contenders and re.search(args.match, w.name)]


def phases_of(workload, contender: str) -> tuple[str, ...]:
    """The phases a contender runs: ``plugin-fiftyone`` differs from
    ``plugin`` only in its load, so it runs no status or cleanup."""
    if contender == "plugin-fiftyone":
        return tuple(p for p in workload.phases if p in ("request", "load"))
    return workload.phases


def run_keys(workload) -> list[tuple[str, str]]:
    """``(contender, phase)`` of every measurement of a workload; the floor's
    load is measured once per complete read (``floor:<read>``), and on the
    plugin's own project next to its load (:data:`PAIRED_FLOOR`)."""
    keys = []
    for contender in workload.contenders:
        for phase in phases_of(workload, contender):
            if contender == "floor" and phase == "load":
                keys += [(f"floor:{read}", "load") for read in READS]
            else:
                keys.append((contender, phase))
    if _pairs_floor(workload, "plugin", "load"):
        keys.append((PAIRED_FLOOR, "load"))
    return keys


def _pairs_floor(workload, contender: str, phase: str) -> bool:
    return (contender, phase) == ("plugin", "load") and "floor" in workload.contenders


class Bench:
    """The run's options, servers, data folders and log; ``workloads`` is the
    module of that name, imported once FiftyOne's database is private."""

    def __init__(self, args, workdir: str, label_studio: servers.LabelStudio, workloads):
        self.args = args
        self.workdir = workdir
        self.label_studio = label_studio
        self.workloads = workloads
        self.rest = Rest(label_studio.url, label_studio.pat)
        self.log_path = os.path.join(RESULTS_DIR, "last-run-workers.log")
        self.started = time.monotonic()
        self.sent: dict = {}  # the labels the workload's dataset holds: {label id: box}

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:7.0f} s] {text}", flush=True)

    def context(self, workload, dataset_name: str, floor_tasks: str) -> dict:
        return {
            "url": self.label_studio.url,
            "pat": self.label_studio.pat,
            "legacy_token": self.label_studio.legacy_token,
            "dataset": dataset_name,
            "label_schema": workload.label_schema,
            "media": workload.media,
            "media_field": workload.media_field,
            "floor_tasks": floor_tasks,
            "document_root": self.label_studio.document_root,
        }

    def worker_env(self, workload) -> dict:
        """Local files serving as the server has it, for local-storage runs
        only: the builtin uses local storage whenever its client sees these."""
        if workload.media != "local_storage":
            return {}
        return {
            "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
            "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": self.label_studio.document_root,
        }

    def make_data(self, workload):
        """The workload's dataset and the floor's task file (and, for the
        checks of the loads, the labels sent)."""
        start = time.monotonic()
        if workload.media == "url":
            paths = None
        elif workload.frames:
            folder = f"video-{workload.size}x{workload.frames}"
            paths = self.workloads.write_videos(
                os.path.join(self.label_studio.document_root, folder),
                workload.size,
                workload.frames,
            )
        elif workload.media == "local_storage":
            # one folder per size: accept, review and mixed share their images
            folder = os.path.join(self.label_studio.document_root, f"local-{workload.size}")
            paths = self.workloads.write_images(folder, workload.size)
        else:
            paths = self.workloads.write_images(os.path.join(self.workdir, "images"), workload.size)
        dataset = self.workloads.build_dataset(workload, paths)
        floor_tasks = os.path.join(self.workdir, f"{workload.slug}-floor-tasks.json")
        if "floor" in workload.contenders:
            self.workloads.write_floor_tasks(workload, dataset, floor_tasks)
        self.sent = (
            annotator.label_boxes(dataset, workload.label_field)
            if "load" in workload.phases
            else {}
        )
        # the files just written reach the disk now, not while the first
        # contender's request makes Label Studio write its database
        os.sync()
        self.say(f"{workload.name}: data ready in {time.monotonic() - start:.0f} s")
        return dataset, floor_tasks

    def timeout(self, contender: str) -> float:
        return self.args.builtin_timeout if contender == "builtin" else OTHER_TIMEOUT

    def run_contender(
        self,
        workload,
        contender,
        repeat,
        dataset,
        floor_tasks,
        runs,
        given_up,
        profile_dir=None,
        timers=None,
    ):
        """The workload's phases for one contender, once. A phase that failed
        (or timed out) before is not tried again: its first result stands.
        ``profile_dir``, ``timers``: see ``run_phase``."""
        clone = None
        name = dataset.name
        if contender != "floor" and "load" in workload.phases:
            clone = dataset.clone(f"{contender}{repeat + 1}-{workload.slug}", persistent=True)
            name = clone.name
        context = self.context(workload, name, floor_tasks)
        edits = None
        try:
            for phase in phases_of(workload, contender):
                keys = [(contender, phase)]
                if contender == "floor" and phase == "load":
                    reads = list(READS)
                    shift = repeat % len(reads)  # each read goes first in some repeat
                    keys = [(f"floor:{read}", "load") for read in reads[shift:] + reads[:shift]]
                if _pairs_floor(workload, contender, phase):
                    # the plugin's read of this very project, just before or
                    # after the load (by turns): the same read of another project
                    # at another moment moves by half its time (1,000 tasks: 2.7
                    # to 5.8 s in bench/results/2026-11-30T18-26-07Z.json)
                    paired = [(PAIRED_FLOOR, "load")]
                    keys = paired + keys if repeat % 2 == 0 else keys + paired
                if (contender, phase) in given_up:
                    for key in keys:
                        runs[key].append({**given_up[(contender, phase)], "not_retried": True})
                    continue
                if phase != "request" and "project_id" not in context:
                    # a contender that cannot request (n/a) cannot load either
                    failed = given_up.get((contender, "request"), {}).get("error", "")
                    error = failed if failed.startswith("NotImplementedError") else "not run: no project (the request failed)"  # fmt: skip
                    for key in keys:
                        runs[key].append({"error": error})
                    continue
                if phase == "load":
                    edits = annotator.annotate(
                        self.rest,
                        self.label_studio,
                        context["project_id"],
                        workload.edit,
                        os.path.join(self.workdir, "edits.json"),
                        workload.media_size,
                    )
                    self.say(f"  annotator: {edits['detail']}")
                for key in keys:
                    result = self.measure(
                        workload, key, phase, context, profile_dir, timers, clone, edits
                    )
                    runs[key].append(result)
                    self.say(
                        f"{workload.name} #{repeat + 1} {key[0]:15} {phase:8} {_outcome(result)}"
                    )
                    if "error" in result and key[0] != PAIRED_FLOOR:
                        given_up[(contender, phase)] = result
                    elif phase == "request":
                        context["project_id"] = result["output"]["project_id"]
        finally:
            # a killed client's request may still run
            wait_until_idle(self.label_studio.pid, limit=self.args.idle_limit)
            self.rest.delete_every_project()
            if clone is not None:
                clone.delete()
            elif ANNO_KEY in dataset.list_annotation_runs():
                dataset.delete_annotation_run(ANNO_KEY)

    def measure(self, workload, key, phase, context, profile_dir, timers, clone, edits) -> dict:
        """One phase of one contender (``key``: ``(contender, phase)``), in a
        worker; a load that left wrong labels is a failure."""
        contender = key[0]
        waited = wait_until_idle(self.label_studio.pid, limit=self.args.idle_limit)
        profile = (
            os.path.join(profile_dir, f"{workload.slug}-{phase}.pyisession")
            if profile_dir
            else None
        )
        if contender == PAIRED_FLOOR:
            context = {**context, "read": "paired"}
        elif contender.startswith("floor:"):
            context = {**context, "read": contender.split(":", 1)[1]}
        load_before = os.getloadavg()[0]
        result = run_phase(
            contender.split(":")[0],
            phase,
            context,
            self.timeout(contender),
            self.log_path,
            self.worker_env(workload),
            profile,
            timers,
        )
        result.update(
            waited_for_idle_s=round(waited, 1),
            loadavg_1m_before=load_before,
            loadavg_1m=os.getloadavg()[0],
        )
        if phase == "load" and "error" not in result:
            problem = self.check_load(workload, contender, result, clone, edits)
            if problem:
                result["error"] = f"wrong load: {problem}"
        return result

    def check_load(self, workload, contender, result, clone, edits) -> str | None:
        """What is wrong with a load's outcome, or None."""
        output = result.get("output") or {}
        if contender.startswith("floor"):
            if (
                output.get("tasks") != workload.size
                or output.get("annotated_tasks") != workload.size
            ):
                return f"read {output.get('tasks')} tasks, {output.get('annotated_tasks')} annotated, of {workload.size}"
            return None
        clone.reload()
        if workload.frames:  # moved keyframes, as the labels of those frames
            moved = annotator.keyframe_labels(clone, workload.label_field, edits["moved"])
            edits = {**edits, "moved": moved}
        problem = annotator.check_load(
            self.sent, annotator.label_boxes(clone, workload.label_field), edits
        )
        if problem is None and contender == "plugin":
            expected = {
                "edited": len(edits["moved"]),
                "deleted": len(edits["deleted"]),
                "added": edits["added"],
            }
            got = {k: output.get(k) for k in expected}
            if got != expected:
                problem = f"the load reported {got}, the annotator made {expected}"
        return problem

    def benchmark(self) -> list[dict]:
        rows = []
        for index, workload in enumerate(plan(self.args, self.workloads)):
            dataset, floor_tasks = self.make_data(workload)
            runs = {key: [] for key in run_keys(workload)}
            given_up: dict = {}
            for repeat in range(workload.repeats):
                # each contender goes first in some repeat (or, of one repeat,
                # some workload): the first one after the data is made meets
                # the server and disk least settled
                shift = (index + repeat) % len(workload.contenders)
                for contender in workload.contenders[shift:] + workload.contenders[:shift]:
                    self.run_contender(
                        workload, contender, repeat, dataset, floor_tasks, runs, given_up
                    )
            measured = [report.summarize(workload, c, p, runs[(c, p)]) for c, p in runs]
            rows += measured + report.fastest_read(workload, measured)
            dataset.delete()
        if "plugin" in self.args.only and re.search(self.args.match, "incremental"):
            import incremental

            size, changed = (50, 5) if self.args.quick else (10_000, 100)
            rows += incremental.run(self, size, changed, self.args.repeats)
        if not self.args.quick and re.search(self.args.match, "brush RLE (rle.py)"):
            import rle

            self.say("brush RLE")
            rows += report.rle_rows(rle.run(self.args.repeats))
        return rows

    def profile(self, stamp: str) -> str:
        """Runs the plugin's request and load (on the review workload per
        ``--local-sizes``, or with ``--match`` on the planned workloads it
        matches) twice: once with timers on a few functions (real seconds),
        once under pyinstrument (the call tree, but Python-heavy code runs
        slower under it); returns the path of the summary."""
        profile_dir = os.path.join(RESULTS_DIR, f"profile-{stamp}")
        os.makedirs(profile_dir)
        sections = [
            f"# Profile of the plugin's request and load, {stamp} (plugin {report.plugin_version()})",
            "",
            f"Machine load (1 min) at the start: {os.getloadavg()[0]:.2f}",
            "",
        ]
        if self.args.match:
            chosen = [
                dataclasses.replace(w, contenders=("plugin",), phases=("request", "load"))
                for w in plan(self.args, self.workloads)
                if "load" in w.phases
            ]
        else:
            chosen = [
                self.workloads.Workload(
                    f"review {size:,} local storage",
                    size,
                    "detections",
                    "local_storage",
                    ("plugin",),
                    ("request", "load"),
                    2,
                    "review",
                )
                for size in self.args.local_sizes or [1000]
            ]
        for workload in chosen:
            dataset, floor_tasks = self.make_data(workload)
            runs = {("plugin", p): [] for p in workload.phases}
            self.run_contender(
                workload, "plugin", 0, dataset, floor_tasks, runs, {}, timers=report.PROFILE_TIMERS
            )
            self.run_contender(workload, "plugin", 1, dataset, floor_tasks, runs, {}, profile_dir)
            dataset.delete()
            for phase in workload.phases:
                path = os.path.join(profile_dir, f"{workload.slug}-{phase}.pyisession")
                sections += _profile_section(f"{workload.name}: {phase}", *runs[("plugin", phase)], path)  # fmt: skip
        if self.args.match and re.search(self.args.match, "incremental"):
            import incremental

            size, changed = (50, 5) if self.args.quick else (10_000, 100)
            timed = incremental.run(self, size, changed, 1, timers=report.PROFILE_TIMERS)
            profiled = incremental.run(self, size, changed, 1, profile_dir=profile_dir)
            workload = incremental.workload_of(self.workloads.Workload, size, changed, 1)
            for a, b in zip(timed, profiled):
                if a["phase"] in incremental.LOADS:
                    path = incremental.profile_path(profile_dir, a["phase"], workload)
                    sections += _profile_section(f"{a['workload']}: {a['phase']}", a["runs"][0], b["runs"][0], path)  # fmt: skip
        sections.append(f"Machine load (1 min) at the end: {os.getloadavg()[0]:.2f}")
        path = os.path.join(profile_dir, "summary.md")
        with open(path, "w") as f:
            f.write("\n".join(sections))
        return path


def _profile_section(title: str, timed: dict, profiled: dict, path: str) -> list[str]:
    """A profile summary's section: the timed run's split, the profiled run's tree."""
    return [
        f"## {title}",
        "",
        f"with timers: {_outcome(timed)}",
        "",
        "```",
        report.timers_summary(timed) if "timers" in timed else "(no timers)",
        "```",
        "",
        f"under pyinstrument: {_outcome(profiled)}",
        "",
        "```",
        report.profile_summary(path) if os.path.exists(path) else "(no profile)",
        "```",
        "",
    ]


def _outcome(result: dict) -> str:
    if "error" in result:
        return f"FAILED {result['error']}"
    return f"{result['seconds']:.2f} s, peak {result['peak_mb']:.0f} MB (+{result['growth_mb']:.0f}) {result.get('output', '')}"[
        :300
    ]


def _uptime() -> str:
    """The machine's load, as ``uptime`` says it (other programs distort timings)."""
    with open("/proc/loadavg") as f:
        one, five, fifteen = f.read().split()[:3]
    return f"{datetime.now(timezone.utc):%H:%M:%S} UTC load average {one}, {five}, {fifteen} ({os.cpu_count()} CPUs)"


PLUGIN_FILES = ("__init__.py", "fiftyone.yml", "legacy.py", "pyproject.toml", "backend", "conversions", "operators", "panels", "pythonpath")  # fmt: skip
"""What the bench copies of the plugin: the package, without tests or bench."""


def snapshot_plugin(workdir: str, attempts: int = 20, wait: float = 30.0) -> tuple[str, str]:
    """Copies the plugin's code into ``workdir/plugin`` and returns the copy
    and a digest of it: the bench measures one version of the plugin, even
    while others edit the working tree. A copy whose package does not import
    (caught mid-edit) is taken again after ``wait`` seconds. Needs FiftyOne's
    environment (``servers.isolate_fiftyone``) for the import check."""
    import hashlib
    import subprocess

    target = os.path.join(workdir, "plugin")
    for _attempt in range(attempts):
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(target)
        for name in PLUGIN_FILES:
            source = os.path.join(PLUGIN_DIR, name)
            if os.path.isdir(source):
                shutil.copytree(
                    source, os.path.join(target, name), ignore=shutil.ignore_patterns("__pycache__")
                )
            elif os.path.exists(source):
                shutil.copy2(source, os.path.join(target, name))
        check = subprocess.run(
            [
                sys.executable,
                "-c",
                "import fiftyone_labelstudio.backend.load, fiftyone_labelstudio.operators",
            ],
            capture_output=True,
            text=True,
        )
        if check.returncode == 0:
            digest = hashlib.sha1()
            for root, dirs, files in sorted(os.walk(target)):
                dirs.sort()
                for name in sorted(files):
                    with open(os.path.join(root, name), "rb") as f:
                        digest.update(name.encode() + f.read())
            return target, digest.hexdigest()[:12]
        last = check.stderr.strip().splitlines()[-1:] or ["?"]
        print(
            f"the plugin does not import (edited right now?): {last[0]}; again in {wait:.0f} s",
            flush=True,
        )
        time.sleep(wait)
    raise RuntimeError(f"the plugin did not import in {attempts} attempts")


def _stop_on_sigterm(*_):
    raise SystemExit(143)  # so that the servers are stopped (finally) on SIGTERM


def main(argv=None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    load_at_start = _uptime()
    print(f"machine at start: {load_at_start}", flush=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    os.makedirs(RESULTS_DIR, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="fo-labelstudio-bench-")
    mongod = label_studio = None
    try:
        # the plugin's import name points at the copy (a link in workdir/site)
        plugin_copy = os.path.join(workdir, "plugin")
        os.makedirs(plugin_copy)
        mongod = servers.isolate_fiftyone(workdir, plugin_copy)
        plugin_copy, plugin_digest = snapshot_plugin(workdir)
        label_studio = servers.start_label_studio(
            os.path.join(workdir, "label-studio"),
            os.path.join(workdir, "media"),
            extra_env=UPLOAD_LIMITS,
        )
        label_studio.set_legacy_tokens(True)
        import workloads  # imports fiftyone: only now that its database is private

        # others may commit during a long run
        plugin_at_start = f"{report.plugin_version()}, code copied at start: sha1 {plugin_digest}"
        bench = Bench(args, workdir, label_studio, workloads)
        bench.say(
            f"Label Studio {label_studio.url} (pid {label_studio.pid}), mongod {mongod.uri}, work dir {workdir}"
        )
        if args.profile:
            with open(bench.profile(stamp)) as f:
                print(f.read())
            return
        rows = bench.benchmark()
        version = bench.rest("GET", "api/version")["release"]
        info = report.machine(version)
        options = {
            "sizes": args.sizes,
            "local_sizes": args.local_sizes,
            "repeats": args.repeats,
            "quick": args.quick,
            "only": args.only,
            "match": args.match,
            "builtin_timeout": args.builtin_timeout,
            "plugin_at_start": plugin_at_start,
            "machine_at_start": load_at_start,
            "machine_at_end": _uptime(),
        }
        json_path, md_path = report.write(RESULTS_DIR, stamp, info, options, rows)
        header, lines = report.table(rows)
        print(
            f"\nMedians of {args.repeats} repeats; times in seconds. {report.TIME_RATIOS}.\n{report.MEMORY}.\n"
        )
        print(report.render_text(header, lines))
        reads = report.reads_table(rows)
        if reads:
            print(
                "\nComplete reads of each project (the floor's load):\n"
                + report.render_text(report.READS_HEADER, reads)
            )
        memory = report.memory_per_thousand(rows)
        if memory:
            print(
                "\nMemory per 1,000 samples:\n" + report.render_text(report.MEMORY_HEADER, memory)
            )
        incremental = report.incremental_table(rows)
        if incremental:
            print(
                f"\n{report.INCREMENTAL_NOTE}\n"
                + report.render_text(report.INCREMENTAL_HEADER, incremental)
            )
        print(f"\n{json_path}\n{md_path}")
        print(f"machine at start: {load_at_start}\nmachine at end:   {options['machine_at_end']}")
    finally:
        if label_studio is not None:
            label_studio.stop()
        database = sys.modules.get("fiftyone.core.odm.database")
        if database is not None:
            database._disconnect()
        if mongod is not None:
            mongod.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
