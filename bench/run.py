"""Benchmark: this plugin vs FiftyOne's built-in Label Studio backend vs bare
REST calls (the floor), on the same generated data and the same Label Studio.

    .venv/bin/python bench/run.py [--sizes 500,2000,10000] [--repeats 3] [--quick]
        [--only plugin,builtin,floor] [--match "2,000"] [--builtin-timeout 900] [--profile]

Everything is private to the run: a temporary mongod for FiftyOne (with the
plugin registered as the "labelstudio" backend, as in the tests) and one
Label Studio with legacy tokens on and its upload limits raised, so that the
built-in backend can run at all. Per workload, repeat and contender, the
phases request, load, status and cleanup each run in a process of their own
(``measure.py``); between request and load an annotator accepts every
prediction (untimed). The plugin and the builtin each work on their own clone
of the workload's dataset, since loading writes to it.

``--profile`` instead profiles the plugin's request and load (pyinstrument,
``pip install pyinstrument``) at ``--sizes`` (default 2,000 and 10,000) and
writes bench/results/profile-<date>/summary.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
PLUGIN_DIR = os.path.dirname(BENCH_DIR)
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
sys.path[:0] = [os.path.join(PLUGIN_DIR, "pythonpath"), os.path.join(PLUGIN_DIR, "scripts")]

import fiftyone_labelstudio_plugin  # noqa: E402,F401  (the plugin under FiftyOne's name for it)
import report  # noqa: E402
import servers  # noqa: E402
from contenders import ANNO_KEY, CONTENDERS, PHASES, Rest  # noqa: E402
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
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument(
        "--only", default=",".join(CONTENDERS), help="contenders, e.g. plugin,floor"
    )
    parser.add_argument(
        "--match", default="", help='only the workloads whose name holds this, e.g. "2,000"'
    )
    parser.add_argument(
        "--builtin-timeout", type=float, default=900.0, help="seconds per builtin phase"
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
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else None
    if args.quick:
        args.repeats = 1
    return args


def plan(args, Workload) -> list:
    """The workloads of this run (``Workload`` is ``workloads.Workload``)."""
    quick = args.quick
    sizes = args.sizes or ([50, 200] if quick else [500, 2000, 10000])
    local, instances, urls = (50, 30, 500) if quick else (2000, 1000, 100_000)
    everyone = tuple(c for c in CONTENDERS if c in args.only)
    no_builtin = tuple(c for c in everyone if c != "builtin")
    planned = [
        Workload(
            f"detections {n:,} upload", n, "detections", "upload", everyone, PHASES, args.repeats
        )
        for n in sizes
    ]
    planned += [
        Workload(f"detections {local:,} local storage", local, "detections", "local_storage", everyone, PHASES, args.repeats),
        Workload(f"instances {instances:,} upload", instances, "instances", "upload", everyone, PHASES, args.repeats),
        Workload(f"detections {urls:,} URLs", urls, "detections", "url", no_builtin, ("request", "cleanup"), 1),
    ]  # fmt: skip
    return [w for w in planned if w.contenders and args.match in w.name]


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
        """The workload's dataset and the floor's task file."""
        start = time.monotonic()
        if workload.media == "url":
            paths = None
        elif workload.media == "local_storage":
            folder = os.path.join(self.label_studio.document_root, workload.slug)
            paths = self.workloads.write_images(folder, workload.size)
        else:
            paths = self.workloads.write_images(os.path.join(self.workdir, "images"), workload.size)
        dataset = self.workloads.build_dataset(workload, paths)
        floor_tasks = os.path.join(self.workdir, f"{workload.slug}-floor-tasks.json")
        self.workloads.write_floor_tasks(workload, dataset, floor_tasks)
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
        try:
            for phase in workload.phases:
                if (contender, phase) in given_up:
                    runs[(contender, phase)].append(
                        {**given_up[(contender, phase)], "not_retried": True}
                    )
                    continue
                if phase != "request" and "project_id" not in context:
                    runs[(contender, phase)].append(
                        {"error": "not run: no project (the request failed)"}
                    )
                    continue
                if phase == "load":
                    detail = self.rest.accept_all_predictions(context["project_id"])
                    self.say(f"  annotator: {detail}")
                waited = wait_until_idle(self.label_studio.pid)
                profile = (
                    os.path.join(profile_dir, f"{workload.slug}-{phase}.pyisession")
                    if profile_dir
                    else None
                )
                result = run_phase(
                    contender,
                    phase,
                    context,
                    self.timeout(contender),
                    self.log_path,
                    self.worker_env(workload),
                    profile,
                    timers,
                )
                result.update(waited_for_idle_s=round(waited, 1), loadavg_1m=os.getloadavg()[0])
                runs[(contender, phase)].append(result)
                self.say(
                    f"{workload.name} #{repeat + 1} {contender:7} {phase:8} {_outcome(result)}"
                )
                if "error" in result:
                    given_up[(contender, phase)] = result
                elif phase == "request":
                    context["project_id"] = result["output"]["project_id"]
        finally:
            wait_until_idle(self.label_studio.pid)  # a killed client's request may still run
            self.rest.delete_every_project()
            if clone is not None:
                clone.delete()
            elif ANNO_KEY in dataset.list_annotation_runs():
                dataset.delete_annotation_run(ANNO_KEY)

    def benchmark(self) -> list[dict]:
        rows = []
        for workload in plan(self.args, self.workloads.Workload):
            dataset, floor_tasks = self.make_data(workload)
            runs = {(c, p): [] for c in workload.contenders for p in workload.phases}
            given_up: dict = {}
            for repeat in range(workload.repeats):
                for contender in workload.contenders:
                    self.run_contender(
                        workload, contender, repeat, dataset, floor_tasks, runs, given_up
                    )
            rows += [
                report.summarize(workload, c, p, runs[(c, p)])
                for c in workload.contenders
                for p in workload.phases
            ]
            dataset.delete()
        import rle

        self.say("brush RLE")
        rows += report.rle_rows(rle.run(self.args.repeats))
        return rows

    def profile(self, stamp: str) -> str:
        """Runs the plugin's request and load twice per size: once with timers
        on a few functions (real seconds), once under pyinstrument (the call
        tree, but Python-heavy code runs slower under it); returns the path
        of the summary."""
        profile_dir = os.path.join(RESULTS_DIR, f"profile-{stamp}")
        os.makedirs(profile_dir)
        sections = [
            f"# Profile of the plugin's request and load, {stamp} (plugin {report.plugin_version()})",
            "",
        ]
        for size in self.args.sizes or [2000, 10000]:
            workload = self.workloads.Workload(f"detections {size:,} upload", size, "detections", "upload", ("plugin",), ("request", "load"), 2)  # fmt: skip
            dataset, floor_tasks = self.make_data(workload)
            runs = {("plugin", p): [] for p in workload.phases}
            self.run_contender(
                workload, "plugin", 0, dataset, floor_tasks, runs, {}, timers=report.PROFILE_TIMERS
            )
            self.run_contender(workload, "plugin", 1, dataset, floor_tasks, runs, {}, profile_dir)
            dataset.delete()
            for phase in workload.phases:
                timed, profiled = runs[("plugin", phase)]
                path = os.path.join(profile_dir, f"{workload.slug}-{phase}.pyisession")
                sections += [
                    f"## {workload.name}: {phase}",
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
        path = os.path.join(profile_dir, "summary.md")
        with open(path, "w") as f:
            f.write("\n".join(sections))
        return path


def _outcome(result: dict) -> str:
    if "error" in result:
        return f"FAILED {result['error']}"
    return f"{result['seconds']:.2f} s, peak {result['peak_mb']:.0f} MB (+{result['growth_mb']:.0f}) {result.get('output', '')}"[
        :300
    ]


def main(argv=None) -> None:
    args = parse_args(argv)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    os.makedirs(RESULTS_DIR, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="fo-labelstudio-bench-")
    mongod = label_studio = None
    try:
        mongod = servers.isolate_fiftyone(workdir, PLUGIN_DIR)
        label_studio = servers.start_label_studio(
            os.path.join(workdir, "label-studio"),
            os.path.join(workdir, "media"),
            extra_env=UPLOAD_LIMITS,
        )
        label_studio.set_legacy_tokens(True)
        import workloads  # imports fiftyone: only now that its database is private

        plugin_at_start = report.plugin_version()  # others may commit during a long run
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
            "repeats": args.repeats,
            "quick": args.quick,
            "only": args.only,
            "match": args.match,
            "builtin_timeout": args.builtin_timeout,
            "plugin_at_start": plugin_at_start,
        }
        json_path, md_path = report.write(RESULTS_DIR, stamp, info, options, rows)
        header, lines = report.table(rows)
        print(
            f"\nMedians of {args.repeats} repeats; times in seconds. {report.TIME_RATIOS}.\n{report.MEMORY}.\n"
        )
        print(report.render_text(header, lines))
        memory = report.memory_per_thousand(rows)
        if memory:
            print(
                "\nMemory per 1,000 samples:\n" + report.render_text(report.MEMORY_HEADER, memory)
            )
        print(f"\n{json_path}\n{md_path}")
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
