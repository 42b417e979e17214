"""Benchmark: Label Studio's complete reads of one project, to choose the
load's (``backend.export.ProjectExport``) and the floor's.

Run from the repository root: ``.venv/bin/python bench/export_reads.py``
(``--tasks 10000 --repeats 2``). Starts its own Label Studio in a temporary
directory, imports ``--tasks`` tasks of 10 boxes, each as an annotation and
a prediction, and times, ``--repeats`` times in turn:

- *export*: the synchronous export (``GET /api/projects/<id>/export``), one request;
- *snapshot*: a snapshot export (``POST .../exports/``, download, ``DELETE``);
- *chunks of N (W at once)*: the synchronous export of N task ids at a time
  (``ids[]``), W requests at once: what a load would need to convert one part
  while Label Studio exports the next. Django refuses a query of more than
  1,000 fields (a 400), so N is at most 998; a proxy in front of Label Studio
  may refuse a long URL sooner (nginx: 8 KB, some 400 ids).

Chunked reads need the task ids first: the time to list them (the Data
Manager's task list, ids only, 1,000 a page) is printed too. Prints a
Markdown table of medians, with each read's ratio to the one-request export.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import servers  # noqa: E402

CONFIG = (
    '<View><Image name="image" value="$image"/><RectangleLabels name="boxes" toName="image">'
    '<Label value="cat"/><Label value="dog"/></RectangleLabels></View>'
)
BOXES = 10


def _task(number: int, rng: random.Random) -> dict:
    result = [
        {
            "id": f"r{number}_{i}",
            "from_name": "boxes",
            "to_name": "image",
            "type": "rectanglelabels",
            "original_width": 640,
            "original_height": 480,
            "image_rotation": 0,
            "value": {
                "x": 50 * rng.random(),
                "y": 50 * rng.random(),
                "width": 10 + rng.random(),
                "height": 20 + rng.random(),
                "rotation": 0,
                "rectanglelabels": [rng.choice(["cat", "dog"])],
            },
        }
        for i in range(BOXES)
    ]
    return {
        "data": {"image": f"/data/local-files/?d=img{number}.jpg"},
        "annotations": [{"result": result}],
        "predictions": [{"result": result, "model_version": "bench"}],
    }


def _project(client: httpx.Client, tasks: int) -> tuple[int, list[int]]:
    project_id = client.post("/api/projects/", json={"title": "reads", "label_config": CONFIG})
    project_id = project_id.json()["id"]
    rng = random.Random(tasks)
    for start in range(0, tasks, 1000):
        batch = [_task(n, rng) for n in range(start, min(tasks, start + 1000))]
        client.post(f"/api/projects/{project_id}/import", json=batch).raise_for_status()
    return project_id, _ids(client, project_id)


def _ids(client: httpx.Client, project_id: int) -> list[int]:
    ids, page = [], 1
    while True:
        params = {"project": project_id, "page": page, "page_size": 1000}
        body = client.get("/api/tasks/", params={**params, "fields": "task_only", "include": "id"})
        if body.status_code == 404:  # past the last page
            return ids
        tasks = body.json()["tasks"]
        ids += [task["id"] for task in tasks]
        if len(tasks) < 1000:
            return ids
        page += 1


def _reads(client: httpx.Client, project_id: int, ids: list[int]) -> dict:
    export_path = f"/api/projects/{project_id}/export"
    everything = {"exportType": "JSON", "download_all_tasks": "true"}

    def export(part=None):
        params = {**everything, **({"ids[]": part} if part else {})}
        response = client.get(export_path, params=params)
        response.raise_for_status()
        return json.loads(response.text)

    def snapshot():
        made = client.post(f"/api/projects/{project_id}/exports/", json={"title": "bench"}).json()
        try:
            path = f"/api/projects/{project_id}/exports/{made['id']}/download"
            return json.loads(client.get(path, params={"exportType": "JSON"}).text)
        finally:
            client.delete(f"/api/projects/{project_id}/exports/{made['id']}")

    def chunks(size, workers):
        parts = [ids[i : i + size] for i in range(0, len(ids), size)]
        with ThreadPoolExecutor(workers) as pool:
            return [task for part in pool.map(export, parts) for task in part]

    reads = {"export": export, "snapshot": snapshot}
    for size in (900, 400):
        for workers in (1, 2):
            reads[f"chunks of {size} ({workers} at once)"] = lambda s=size, w=workers: chunks(s, w)
    return reads


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="fo-labelstudio-reads-")
    server = servers.start_label_studio(
        os.path.join(workdir, "ls"),
        os.path.join(workdir, "media"),
        extra_env={"DATA_UPLOAD_MAX_MEMORY_SIZE": str(1 << 30)},
    )
    try:
        server.set_legacy_tokens(True)
        headers = {"Authorization": f"Token {server.legacy_token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=3600) as client:
            project_id, ids = _project(client, args.tasks)
            start = time.perf_counter()
            _ids(client, project_id)
            listing = time.perf_counter() - start
            times: dict[str, list[float]] = {}
            reads = _reads(client, project_id, ids)
            for _ in range(args.repeats):
                for name, read in reads.items():
                    start = time.perf_counter()
                    if len(read()) != len(ids):
                        raise AssertionError(f"{name} did not read every task")
                    times.setdefault(name, []).append(time.perf_counter() - start)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    base = statistics.median(times["export"])
    print(f"{args.tasks:,} tasks of {BOXES} boxes; listing their ids took {listing:.2f} s\n")
    print("| read | median s | runs s | / export |")
    print("|---|---|---|---|")
    for name, runs in times.items():
        median = statistics.median(runs)
        shown = ", ".join(f"{t:.2f}" for t in runs)
        print(f"| {name} | {median:.2f} | {shown} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
