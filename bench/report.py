"""The benchmark's rows as a text table, a Markdown table and JSON, and the
summary of a pyinstrument profile.

    .venv/bin/python bench/report.py bench/results/A.json bench/results/B.json ...

merges the rows of several runs (a later file's row replaces an earlier one's
for the same workload, phase and contender: rerun phases) into
``<now>-merged.json`` and ``latest.md``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from collections import defaultdict

from contenders import PAIRED_FLOOR

_PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIME_RATIOS = (
    "plugin = fiftyone_labelstudio.annotate() and .load_annotations() (the bulk load), "
    "plugin via FiftyOne = the same backend through dataset.annotate() and "
    "dataset.load_annotations(); "
    "floor load = the fastest of Label Studio's complete reads (named), parsed; "
    "paired floor = the read the plugin's load makes (a small project's synchronous export, else a snapshot) of its own project, just before or after "
    "its load (by turns); "
    "builtin/plugin = builtin time / plugin time (> 1: the plugin is faster); "
    "plugin/floor = plugin time / floor time (1: as fast as bare REST calls); "
    "plugin/paired = plugin load / paired floor, load by load (median of the ratios)"
)
MEMORY = "MB = peak RSS of the client process, and (+growth) during the phase call"
INCREMENTAL_NOTE = (
    "Incremental load (bench/incremental.py): the plugin's default load after a previous "
    "load vs a full reload (full=True) of the same state, each on its own clone of the "
    "dataset; MB received = HTTP response bytes (headers and bodies) from Label Studio; "
    "tasks read = tasks the load converted; ratios to the full reload:"
)


def summarize(workload, contender: str, phase: str, runs: list[dict]) -> dict:
    """One row: a workload's phase for one contender, medians over its runs;
    ``failure`` is set when any run failed (then no medians)."""
    failures = [run["error"] for run in runs if "error" in run]
    row = {
        "workload": workload.name,
        "size": workload.size,
        "label_type": workload.label_type,
        "media": workload.media,
        "edit": getattr(workload, "edit", "accept"),
        "phase": phase,
        "contender": contender,
        "runs": runs,
        "failure": failures[0] if failures else None,
    }
    if runs and not failures:
        for key in ("seconds", "peak_mb", "growth_mb"):
            row[key] = statistics.median(run[key] for run in runs)
        if all("http" in run for run in runs):
            for key in ("requests", "received_bytes"):
                row[f"http_{key}"] = statistics.median(run["http"][key] for run in runs)
    return row


def fastest_read(workload, rows: list[dict]) -> list[dict]:
    """The floor's load row: the fastest complete read of the floor's own
    project (``floor:<read>`` rows) by median, as contender ``floor`` with
    ``read`` naming it."""
    reads = [r for r in rows if _own_project_read(r)]
    if not reads:
        return []
    done = [r for r in reads if not r["failure"]]
    if not done:
        return [{**reads[0], "contender": "floor", "read": None}]
    best = min(done, key=lambda r: r["seconds"])
    return [{**best, "contender": "floor", "read": best["contender"].split(":", 1)[1]}]


def _own_project_read(row: dict) -> bool:
    """Whether a row is one complete read of the floor's own project."""
    contender = row["contender"]
    return contender.startswith("floor:") and contender != PAIRED_FLOOR and row["phase"] == "load"


def rle_rows(measured: list[dict]) -> list[dict]:
    """bench/rle.py's rows as table rows: ours is the plugin, the SDK's codec
    (which FiftyOne's built-in backend calls) the builtin."""
    rows = []
    for case in measured:
        for contender, key in (("plugin", "ours"), ("builtin", "sdk")):
            rows.append(
                {
                    "workload": "brush RLE (rle.py)",
                    "phase": case["name"],
                    "contender": contender,
                    "seconds": case[key],
                    "failure": None,
                }
            )
    return rows


def table(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and cells: one line per workload and phase."""
    header = [
        "workload", "phase",
        "plugin s", "plugin MB", "plugin via FiftyOne s", "MB",
        "builtin s", "builtin MB", "floor s", "floor MB", "paired floor s",
        "builtin/plugin", "plugin/floor", "plugin/paired",
    ]  # fmt: skip
    grouped: dict[tuple, dict] = defaultdict(dict)
    for row in rows:
        grouped[(row["workload"], row["phase"])][row["contender"]] = row
    lines = []
    for (workload, phase), by_contender in grouped.items():
        cells = [workload, phase]
        for contender in ("plugin", "plugin-fiftyone", "builtin", "floor"):
            row = by_contender.get(contender)
            seconds = _seconds(row)
            if row is not None and row.get("read") and not row["failure"]:
                seconds += f" ({row['read']})"
            cells += [seconds, _memory(row)]
        paired = by_contender.get(PAIRED_FLOOR)
        plugin = by_contender.get("plugin")
        cells += [
            _seconds(paired) if paired else "-",
            _ratio(by_contender.get("builtin"), plugin),
            _ratio(plugin, by_contender.get("floor")),
            _paired_ratio(plugin, paired),
        ]
        lines.append(cells)
    return header, lines


INCREMENTAL_HEADER = ["workload", "load", "s", "MB", "HTTP requests", "MB received", "tasks read", "s / full", "bytes / full"]  # fmt: skip


def incremental_table(rows: list[dict]) -> list[list[str]]:
    """The plugin's loads of the incremental workloads (``incremental.py``):
    time, peak RSS, HTTP requests and bytes received from Label Studio, tasks
    read, and the ratios of each to the full reload's."""
    found: dict[str, dict] = defaultdict(dict)
    for row in rows:
        if row["workload"].startswith("incremental") and "load" in row["phase"]:
            found[row["workload"]][row["phase"]] = row
    lines = []
    for workload, loads in found.items():
        full = loads.get("load (full=True)")
        for phase, row in loads.items():
            fine = not row["failure"] and full is not None and not full["failure"]
            changed = [run.get("output", {}).get("changed") for run in row["runs"]]
            lines.append(
                [
                    workload,
                    phase,
                    _seconds(row),
                    _memory(row),
                    f"{row['http_requests']:.0f}" if "http_requests" in row else "-",
                    f"{row['http_received_bytes'] / 1e6:.2f}" if "http_received_bytes" in row else "-",
                    "/".join(sorted({f"{c:,}" for c in changed if c is not None})) or "-",
                    f"{row['seconds'] / full['seconds']:.1%}" if fine else "-",
                    f"{row['http_received_bytes'] / full['http_received_bytes']:.1%}" if fine else "-",
                ]
            )  # fmt: skip
    return lines


READS_HEADER = ["workload", "snapshot export s", "sync export s", "tasks API s", "fastest", "snapshot / fastest"]  # fmt: skip


def reads_table(rows: list[dict]) -> list[list[str]]:
    """Label Studio's complete reads of each workload's project (the floor's
    load, each read in a process of its own): medians, the fastest, and how
    much slower the snapshot export (the plugin's read) is than it."""
    found: dict[str, dict] = defaultdict(dict)
    for row in rows:
        if _own_project_read(row):
            found[row["workload"]][row["contender"].split(":", 1)[1]] = row
    lines = []
    for workload, reads in found.items():
        fine = {k: r for k, r in reads.items() if not r["failure"]}
        fastest = min(fine, key=lambda k: fine[k]["seconds"]) if fine else None
        snapshot = fine.get("snapshot")
        lines.append(
            [
                workload,
                *(_seconds(reads.get(k)) for k in ("snapshot", "export", "tasks")),
                fastest or "-",
                _ratio(snapshot, fine.get(fastest)) if snapshot and fastest else "-",
            ]
        )
    return lines


def _seconds(row) -> str:
    if row is None:
        return "-"
    failure = row["failure"]
    if failure:
        if failure.startswith("NotImplementedError: "):
            return "n/a: " + failure.split(": ", 2)[1]  # the reason, without the detail
        if failure.startswith((">", "not run")):
            return failure.split(" (")[0]
        return f"failed: {failure[:40]}"
    seconds = row["seconds"]
    return f"{seconds:.2f}" if seconds >= 0.1 else f"{seconds * 1e3:.2f} ms"


def _memory(row) -> str:
    if row is None or row["failure"] or "peak_mb" not in row:
        return "-"
    return f"{row['peak_mb']:.0f} (+{row['growth_mb']:.0f})"


def _paired_ratio(plugin, paired) -> str:
    """The median of each load's ratio to the floor read next to it."""
    if not plugin or not paired or plugin["failure"] or paired["failure"]:
        return "-"
    ratios = [a["seconds"] / b["seconds"] for a, b in zip(plugin["runs"], paired["runs"])]
    return f"{statistics.median(ratios):.2f}" if ratios else "-"


def _ratio(numerator, denominator) -> str:
    if not numerator or not denominator or denominator["failure"]:
        return "-"
    if numerator["failure"]:
        if numerator["failure"].startswith("> "):  # timed out: at least this much slower
            limit = float(numerator["failure"][2:].split()[0])
            return f"> {limit / denominator['seconds']:.0f}"
        return "-"
    return f"{numerator['seconds'] / denominator['seconds']:.2f}"


def memory_per_thousand(rows: list[dict]) -> list[list[str]]:
    """Per contender and phase: MB more per 1,000 more samples between the two
    largest sizes of the uploaded-detections workloads (peak and growth)."""
    found: dict[tuple, dict[int, dict]] = defaultdict(dict)
    for row in rows:
        if (
            row.get("label_type") == "detections"
            and row.get("media") == "upload"
            and row["phase"] in ("request", "load")
            and not row["failure"]
        ):
            found[(row["contender"], row["phase"])][row["size"]] = row
    lines = []
    for (contender, phase), by_size in found.items():
        if len(by_size) < 2:
            continue
        small, large = sorted(by_size)[-2:]
        per = (large - small) / 1000
        lines.append(
            [
                contender,
                phase,
                f"{small:,} -> {large:,}",
                f"{(by_size[large]['peak_mb'] - by_size[small]['peak_mb']) / per:.1f}",
                f"{(by_size[large]['growth_mb'] - by_size[small]['growth_mb']) / per:.1f}",
            ]
        )
    return lines


MEMORY_HEADER = ["contender", "phase", "samples", "peak MB / 1,000", "growth MB / 1,000"]


def render_text(header: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)) for line in lines]
    return "\n".join(out)


def render_markdown(header: list[str], lines: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c).replace("|", "/") for c in line) + " |" for line in lines]
    return "\n".join(out)


def machine(label_studio_version: str) -> dict:
    import fiftyone
    import label_studio_sdk.version as sdk_version
    import psutil

    model = ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), ""
            )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "fiftyone": fiftyone.__version__,
        "label_studio": label_studio_version,
        "label_studio_sdk": sdk_version.__version__,
        "plugin": plugin_version(),
    }


def plugin_version() -> str:
    """The plugin's commit, and whether its code differs from it (read-only git)."""

    def git(*args):
        return subprocess.run(
            ["git", "-C", _PLUGIN_DIR, *args], capture_output=True, text=True
        ).stdout.strip()

    changed = git("status", "--porcelain", "--", "backend", "conversions")
    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if changed else "")


def write(
    results_dir: str, stamp: str, info: dict, options: dict, rows: list[dict]
) -> tuple[str, str]:
    """``<stamp>.json`` with every row and run, and ``latest.md``; returns their paths."""
    os.makedirs(results_dir, exist_ok=True)
    json_path = os.path.join(results_dir, f"{stamp}.json")
    with open(json_path, "w") as f:
        json.dump(
            {"date": stamp, "machine": info, "options": options, "rows": rows},
            f,
            indent=1,
            default=str,
        )
    header, lines = table(rows)
    memory = memory_per_thousand(rows)
    reads = reads_table(rows)
    md = [
        f"# Benchmark {stamp}",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        "",
        f"Options: {options}",
        "",
        f"Medians of the repeats; times in seconds. {TIME_RATIOS}. {MEMORY}.",
        "For brush RLE, plugin = conversions.rle, builtin = label_studio_sdk.converter.brush.",
        "",
        render_markdown(header, lines),
    ]
    if reads:
        md += [
            "",
            "Complete reads of each project (the floor's load):",
            "",
            render_markdown(READS_HEADER, reads),
        ]
    if memory:
        md += ["", "Memory per 1,000 samples:", "", render_markdown(MEMORY_HEADER, memory)]
    incremental = incremental_table(rows)
    if incremental:
        md += ["", INCREMENTAL_NOTE, "", render_markdown(INCREMENTAL_HEADER, incremental)]
    md_path = os.path.join(results_dir, "latest.md")
    with open(md_path, "w") as f:
        f.write("\n".join(md) + "\n")
    return json_path, md_path


def merge(paths: list[str]) -> tuple[dict, dict, list[dict]]:
    """The machine (of the last file), options (per file) and rows of several
    result files; see the module."""
    info, options, rows = {}, {}, {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        info = data["machine"]
        options[os.path.basename(path)] = data["options"]
        for row in data["rows"]:
            rows[(row["workload"], row["phase"], row["contender"])] = row
    return info, options, list(rows.values())


# ---------------------------------------------------------------- profiles

_PLUGIN = "fiftyone_labelstudio."
# functions timed in a --profile pass; those of SPLIT_TIMERS never call one
# another, so they split a call's time; the others may nest
SPLIT_TIMERS = {
    "HTTP: socket I/O with Label Studio (waiting for it, sending)": (
        "httpcore._backends.sync:SyncStream.read",
        "httpcore._backends.sync:SyncStream.write",
    ),
    "MongoDB: socket I/O": (
        "pymongo.synchronous.network:receive_message",
        "pymongo.network_layer:sendall",
    ),
    "plugin conversion core (export_sample, load_sample)": (
        _PLUGIN + "conversions.sample:export_sample",
        _PLUGIN + "conversions.sample:load_sample",
    ),
}
HOT_SPOT_TIMERS = (
    # request
    _PLUGIN + "backend.label_fields:existing_attributes",
    _PLUGIN + "backend.annotation_backend:LabelStudioAnnotationAPI.__init__",
    _PLUGIN + "backend.request:request_annotations",
    _PLUGIN + "backend.media:plan_media",
    _PLUGIN + "backend.orphans:delete_pending",
    _PLUGIN + "backend.projects:find_target",
    _PLUGIN + "backend.projects:unique_title",
    _PLUGIN + "backend.projects:create_project",
    _PLUGIN + "backend.media:media_urls",
    _PLUGIN + "backend.tasks:import_tasks",
    _PLUGIN + "backend.tasks:_import_batch",
    _PLUGIN + "backend.tasks:task_of",
    _PLUGIN + "backend.tasks:json_body",
    # load
    _PLUGIN + "backend.load:load_run_results",
    _PLUGIN + "backend.load:read_run",
    _PLUGIN + "backend.export:ProjectExport._make",
    _PLUGIN + "backend.incremental:server_time",
    _PLUGIN + "backend.incremental:live_task_ids",
    _PLUGIN + "backend.loading:tally",
    _PLUGIN + "backend.load:read_unloaded",
    _PLUGIN + "backend.client:Connection.request",
    _PLUGIN + "backend.loading:load_tasks",
    _PLUGIN + "backend.prefetch:Prefetch.read",
    _PLUGIN + "backend.dataset_io:read_samples",
    _PLUGIN + "backend.dataset_io:ensure_metadata",
    _PLUGIN + "backend.loading:_convert",
    _PLUGIN + "backend.load:plan_load",
    _PLUGIN + "backend.dataset_io:write_field",
    _PLUGIN + "backend.load:record_load",
    _PLUGIN + "backend.load:live_fields",
    _PLUGIN + "backend.run_lock:acquire",
    _PLUGIN + "conversions.base:copy_label",
    "fiftyone.utils.annotations:_merge_labels",
    "fiftyone.core.collections:SampleCollection.values",
    "fiftyone.core.collections:SampleCollection.set_values",
)
PROFILE_TIMERS = [name for names in SPLIT_TIMERS.values() for name in names] + list(HOT_SPOT_TIMERS)


def timers_summary(run: dict) -> str:
    """How a timed call's seconds split, and its hot spots' seconds."""
    total, timers = run["seconds"], run["timers"]
    lines = [f"total {total:.2f} s"]
    rest = total
    for kind, names in SPLIT_TIMERS.items():
        seconds = sum(timers[name]["seconds"] for name in names if name in timers)
        rest -= seconds
        lines.append(f"  {kind}: {seconds:.2f} s ({100 * seconds / total:.0f}%)")
    lines.append(f"  the rest: FiftyOne and plugin glue: {rest:.2f} s ({100 * rest / total:.0f}%)")
    lines += [
        "",
        "functions (cumulative; they may nest), from the first call's start to the last's end:",
    ]
    for name in HOT_SPOT_TIMERS:
        timer = timers.get(name)
        shown = name.replace(_PLUGIN, "plugin:")
        if timer is None:
            lines.append(f"  {shown}: not found")
        elif timer["calls"]:
            began, ended = timer.get("span") or (0.0, 0.0)
            lines.append(
                f"  {shown}: {timer['seconds']:.2f} s in {timer['calls']:,} calls, "
                f"{began:.2f} to {ended:.2f} s"
            )
    return "\n".join(lines)


# where a sample's time goes: the kind of the nearest frame up its stack that
# has one (so JSON parsing called by the plugin is the plugin's, a label built
# by the conversion core is FiftyOne's)
_KINDS = (
    (
        "HTTP: client and waiting on Label Studio",
        ("/httpx/", "/httpcore/", "/h11/", "/label_studio_sdk/", "/requests/", "/urllib3/"),
    ),
    ("MongoDB driver and BSON", ("/pymongo/", "/bson/")),
    # the plugin as checked out, or as copied for a run (run.snapshot_plugin)
    (
        "plugin conversion core",
        (os.path.join(_PLUGIN_DIR, "conversions") + "/", "/plugin/conversions/"),
    ),
    (
        "plugin backend (glue, JSON streaming)",
        (os.path.join(_PLUGIN_DIR, "backend") + "/", "/plugin/backend/"),
    ),
    ("FiftyOne and mongoengine", ("/fiftyone/", "/mongoengine/", "/eta/")),
)


def _kind(frame) -> str:
    while frame is not None:
        path = frame.file_path or ""
        for kind, markers in _KINDS:
            if any(marker in path for marker in markers):
                return kind
        frame = frame.parent
    return "other (standard library)"


def profile_summary(path: str, flat_lines: int = 25) -> str:
    """A pyinstrument session: the split of its time by kind of code, its call
    tree, and the functions with the most time of their own."""
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    session = Session.load(path)
    root = session.root_frame()
    split: dict[str, float] = defaultdict(float)
    stack = [root]
    while stack:
        frame = stack.pop()
        if frame.children:
            stack.extend(frame.children)
        else:
            split[_kind(frame)] += frame.time
    lines = [f"total {root.time:.2f} s (under pyinstrument)"]
    lines += [
        f"  {kind}: {seconds:.2f} s ({100 * seconds / root.time:.0f}%)"
        for kind, seconds in sorted(split.items(), key=lambda item: -item[1])
    ]
    # FiftyOne's frames shown, other libraries' folded
    options = {"filter_threshold": 0.02, "show_regex": r".*/fiftyone/(core|utils)/.*"}
    tree = ConsoleRenderer(unicode=False, color=False, processor_options=options).render(session)
    flat = ConsoleRenderer(unicode=False, color=False, flat=True).render(session)
    flat_body = [line for line in flat.splitlines() if line.strip()][4 : 4 + flat_lines]
    lines += [
        "",
        "call tree (frames under 2% hidden):",
        tree.strip(),
        "",
        f"top {flat_lines} functions by own time:",
        *flat_body,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    from datetime import datetime, timezone

    paths = sys.argv[1:]
    if not paths:
        raise SystemExit(__doc__)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ") + "-merged"
    for written in write(os.path.dirname(os.path.abspath(paths[0])), stamp, *merge(paths)):
        print(written)
