"""Benchmark: converting a load's tasks with what each label was sent as made
beforehand, as a load makes it while Label Studio exports (the read-ahead
thread calls ``backend.loading.index_labels``), against made while converting.

Run from the repository root: ``.venv/bin/python bench/convert.py``. 1,000
tasks of 10 boxes, edited as bench/run.py's workloads edit them: *accept*
(every box as sent), *review* (one box per task moved), *mixed* (10% of boxes
moved, 5% deleted, 5% drawn). Each task is converted as a load converts it
(``load_sample`` against the sample's labels read raw); times are medians and
minima of ``--repeats`` runs, with Python's cyclic garbage collector paused
as a load pauses it. No server and no database: FiftyOne's configs point into
a temporary directory.
"""

from __future__ import annotations

import argparse
import copy
import gc
import os
import random
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE, BOXES = 1000, 10


def _isolate(workdir: str) -> None:
    """This checkout importable as ``fiftyone_labelstudio``; FiftyOne's
    configs, and matplotlib's, in ``workdir`` (nothing they read or write
    lies outside)."""
    site = os.path.join(workdir, "site")
    os.makedirs(site)
    os.symlink(ROOT, os.path.join(site, "fiftyone_labelstudio"))
    sys.path.insert(0, site)
    for name in ("CONFIG_PATH", "APP_CONFIG_PATH", "ANNOTATION_CONFIG_PATH"):
        os.environ[f"FIFTYONE_{name}"] = os.path.join(workdir, name.lower() + ".json")
    os.environ["FIFTYONE_DATABASE_DIR"] = os.path.join(workdir, "db")
    os.environ["FIFTYONE_DO_NOT_TRACK"] = "true"
    os.environ["MPLCONFIGDIR"] = os.path.join(workdir, "matplotlib")  # imported by fiftyone


def _tasks(edit: str, rng: random.Random):
    """``[(sample id, stored value, results)]``: each sample's boxes as read
    raw from the database, and its annotation's results after ``edit``."""
    import fiftyone.core.labels as fol
    from fiftyone_labelstudio.backend.stored_labels import stored_value
    from fiftyone_labelstudio.conversions import FieldSchema, Frame
    from fiftyone_labelstudio.conversions.detection import export_detections

    field = FieldSchema("ground_truth", "detections", ("circle", "square", "triangle"))
    tasks = []
    for n in range(SIZE):
        sample_id = f"{n:024x}"
        boxes = fol.Detections(
            detections=[
                fol.Detection(
                    label=rng.choice(field.classes),
                    bounding_box=[rng.uniform(0, 0.7), rng.uniform(0, 0.7), 0.2, 0.25],
                    confidence=rng.random(),
                )
                for _ in range(BOXES)
            ]
        )
        results = copy.deepcopy(
            export_detections(boxes.detections, field, Frame(200, 100, sample_id))[0]
        )
        for result in results:
            result["origin"] = "prediction"
        if edit in ("review", "mixed"):  # one box of ten moved: 10%
            results[0]["value"]["x"] += 1.5
        if edit == "mixed" and n % 2:  # 5% deleted and 5% drawn: one box every other task
            del results[-1]
        elif edit == "mixed":
            drawn = copy.deepcopy(results[-1])
            drawn.update(id=f"drawn{n:05d}", origin="manual")
            drawn["value"]["y"] += 3.0
            results.append(drawn)
        raw = stored_value(boxes.to_mongo().to_dict(), fol.Detections)
        tasks.append((sample_id, raw, results))
    return field, tasks


def run(repeats: int) -> list[dict]:
    """Rows of workload, the seconds converting took with the sent results
    made while converting (``during``) and made ahead (``after_ahead``), and
    the seconds making them ahead took (``ahead``)."""
    from fiftyone_labelstudio.backend.dataset_io import SampleValues
    from fiftyone_labelstudio.backend.loading import index_labels, label_index
    from fiftyone_labelstudio.conversions import load_sample

    rows = []
    for edit in ("accept", "review", "mixed"):
        field, tasks = _tasks(edit, random.Random(0))
        times: dict[str, list[float]] = {"during": [], "ahead": [], "after_ahead": []}
        for _ in range(repeats):
            gc.collect()
            gc.disable()  # as a load does (backend.collector.cycle_collection_paused)
            samples = [SampleValues(200, 100, {field.name: raw}) for _, raw, _ in tasks]
            start = time.perf_counter()
            for (sample_id, _, results), sample in zip(tasks, samples):
                originals = {field.name: label_index(sample.values[field.name], field)}
                load_sample(results, [field], sample.frame(sample_id), originals)
            times["during"].append(time.perf_counter() - start)

            samples = [SampleValues(200, 100, {field.name: raw}) for _, raw, _ in tasks]
            start = time.perf_counter()
            for (sample_id, _, _), sample in zip(tasks, samples):
                index_labels(sample_id, sample, [field])
            times["ahead"].append(time.perf_counter() - start)
            start = time.perf_counter()
            for (sample_id, _, results), sample in zip(tasks, samples):
                originals = index_labels(sample_id, sample, [field])  # made already
                load_sample(results, [field], sample.frame(sample_id), originals)
            times["after_ahead"].append(time.perf_counter() - start)
            gc.enable()
        rows.append({"workload": edit, **times})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as workdir:
        _isolate(workdir)
        rows = run(args.repeats)
    print(f"Converting {SIZE:,} tasks of {BOXES} boxes: seconds, median (min) of {args.repeats}\n")
    print(
        "| workload | sent results made while converting | made ahead: converting | making them ahead |"
    )
    print("|---|---|---|---|")
    for row in rows:
        cells = [
            f"{statistics.median(row[k]):.3f} ({min(row[k]):.3f})"
            for k in ("during", "after_ahead", "ahead")
        ]
        print(f"| {row['workload']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
