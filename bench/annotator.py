"""The benchmark's annotator: the work done in Label Studio between a request
and its load, untimed.

- ``accept``: every prediction becomes an annotation, unchanged (Label
  Studio's data-manager action "Create Annotations From Predictions").
- ``review`` (a light review): every task is annotated, and in each the
  annotator moved one box by a few percent of the image.
- ``mixed``: every task is annotated; of all boxes, 10% were moved, 5%
  deleted, and 5% more were drawn, spread over the tasks at random.
- ``keyframes`` (videos): every task is annotated, and in each track
  (``VideoRectangle``) the annotator moved the box on one keyframe.

``review``, ``mixed`` and ``keyframes`` first accept every prediction with
the same action, then rewrite the annotations' results in bulk through Label
Studio's Django shell (one ``bulk_update``): through the REST API that is one
``PATCH /api/annotations/<id>`` per task, which at 10,000 tasks, for every
contender and repeat, would take longer than the benchmark itself (see
:func:`rest_seconds_per_annotation`). Edits of a few tasks after a load
(:func:`edit_tasks`, for the incremental load) go through the REST API, as
the editor's do. The results are written as Label
Studio 1.23.2's editor writes them when an annotator accepts the prediction,
moves, deletes and draws boxes, and submits (see
``tests/assets/rectanglelabels/``): its key order, ``origin`` ``"prediction"``
(untouched), ``"prediction-changed"`` (moved: the score stays) or
``"manual"`` (drawn: a new 10-character region id, no score), the region ids
of kept boxes unchanged.

Which boxes move is decided from the region ids alone (the FiftyOne label
ids, the same in every contender's clone of a dataset), so every contender's
project gets the same edits. The edits are returned (``moved``: region id ->
new ``[x, y, width, height]`` in percent, ``deleted``, ``added``), so that
:func:`check_load` can check what each load left in its dataset.

This module is standard library only: Label Studio's own interpreter imports
it in its Django shell.
"""

from __future__ import annotations

import json
import os
import random
import time

EDITS = ("accept", "review", "mixed")
VIDEO_EDIT = "keyframes"
MIXED_RATES = {"moved": 0.10, "deleted": 0.05, "added": 0.05}
MOVE_PERCENT = (1.0, 5.0)  # a moved box's x and y each shift by this much of the image
_NANOID = "ModuleSymbhasOwnPr-0123456789ABCDEFGHNRVfgctiUvz_KqYTJkLxpZXIjQW"
_EDITOR_KEYS = ("original_width", "original_height", "image_rotation", "value", "id")
_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))


# ------------------------------------------------------------ the edits (pure)


def _key(result: list[dict]) -> str:
    """What identifies an annotation across contenders: its smallest region id."""
    return min((str(r.get("id")) for r in result), default="")


def _editor_result(result: dict, origin: str, size: tuple[int, int]) -> dict:
    """One result as the editor submits it: its keys in the editor's order,
    ``origin`` set, the score kept (the editor keeps a region's score)."""
    out = {
        "original_width": result.get("original_width", size[0]),
        "original_height": result.get("original_height", size[1]),
        "image_rotation": result.get("image_rotation", 0),
        "value": dict(result["value"]),
        "id": result["id"],
    }
    for key in ("from_name", "to_name", "type"):
        out[key] = result[key]
    out["origin"] = origin
    if isinstance(result.get("score"), (int, float)):
        out["score"] = result["score"]
    for key, value in result.items():  # anything else the result had
        if key not in out and key != "score":
            out[key] = value
    return out


def _moved(value: dict, rng: random.Random) -> dict:
    """The box moved by a few percent of the image in x and y, inside it."""
    moved = dict(value)
    for axis, extent in (("x", "width"), ("y", "height")):
        shift = rng.uniform(*MOVE_PERCENT) * rng.choice((-1, 1))
        top = 100.0 - float(value[extent])
        position = float(value[axis]) + shift
        if not 0.0 <= position <= top:
            position = float(value[axis]) - shift
        moved[axis] = min(max(position, 0.0), top)
    return moved


def _drawn(template: dict, rng: random.Random, size: tuple[int, int]) -> dict:
    """A box the annotator drew on the image, of a class the task already uses."""
    value = template["value"]
    labels_key = template["type"]
    return {
        "original_width": template.get("original_width", size[0]),
        "original_height": template.get("original_height", size[1]),
        "image_rotation": 0,
        "value": {
            "x": rng.uniform(0, 70),
            "y": rng.uniform(0, 70),
            "width": rng.uniform(5, 30),
            "height": rng.uniform(5, 30),
            "rotation": 0,
            labels_key: list(value[labels_key]),
        },
        "id": "".join(rng.choice(_NANOID) for _ in range(10)),
        "from_name": template["from_name"],
        "to_name": template["to_name"],
        "type": template["type"],
        "origin": "manual",
    }


def edit_results(
    results: dict, kind: str, seed: int = 0, size: tuple[int, int] = (200, 100)
) -> tuple[dict, dict]:
    """The annotator's edits of a project's accepted annotations.

    Args:
        results: ``{annotation id: result list}`` (the accepted predictions)
        kind: ``"review"``, ``"mixed"`` or ``"keyframes"``
        seed: the same seed gives the same edits
        size: the image size, for results without ``original_width``

    Returns:
        ``({annotation id: new result list}, edits)``; ``edits`` holds
        ``moved`` ``{region id: [x, y, width, height]}`` (percent; for
        ``keyframes``, ``{"<region id>@<frame>": ...}``),
        ``deleted`` ``[region id]`` and ``added`` (a count)

    Example:
        >>> box = lambda i, x: {"id": i, "from_name": "gt", "to_name": "image",
        ...     "type": "rectanglelabels", "value": {"x": x, "y": 10, "width": 5,
        ...     "height": 5, "rotation": 0, "rectanglelabels": ["car"]}}
        >>> new, edits = edit_results({7: [box("a", 10), box("b", 50)]}, "review")
        >>> len(edits["moved"]), [r["origin"] for r in new[7]].count("prediction-changed")
        (1, 1)
    """
    if kind == VIDEO_EDIT:
        return _edit_keyframes(results, seed, size)
    if kind not in ("review", "mixed"):
        raise ValueError(f"kind={kind!r}: review, mixed or {VIDEO_EDIT}")
    order = sorted(results, key=lambda a: _key(results[a]))
    moved: dict[str, list] = {}
    deleted: set[str] = set()
    drawn: dict = {a: 0 for a in order}
    rng = random.Random(f"{seed}:{kind}")
    if kind == "review":  # one box per task
        chosen = set()
        for a in order:
            ids = sorted(str(r["id"]) for r in results[a])
            if ids:
                chosen.add(random.Random(f"{seed}:review:{ids[0]}").choice(ids))
    else:
        boxes = sorted(str(r["id"]) for a in order for r in results[a])
        rng.shuffle(boxes)
        n_moved = round(MIXED_RATES["moved"] * len(boxes))
        n_deleted = round(MIXED_RATES["deleted"] * len(boxes))
        chosen = set(boxes[:n_moved])
        deleted = set(boxes[n_moved : n_moved + n_deleted])
        for _ in range(round(MIXED_RATES["added"] * len(boxes))):
            drawn[rng.choice(order)] += 1

    new = {}
    for a in order:
        out = []
        task_rng = random.Random(f"{seed}:{kind}:{_key(results[a])}")
        for result in results[a]:
            region = str(result["id"])
            if region in deleted:
                continue
            if region in chosen:
                edited = _editor_result(result, "prediction-changed", size)
                edited["value"] = _moved(result["value"], task_rng)
                value = edited["value"]
                moved[region] = [value["x"], value["y"], value["width"], value["height"]]
                out.append(edited)
            else:
                out.append(_editor_result(result, "prediction", size))
        for _ in range(drawn[a]):
            template = results[a][0] if results[a] else None
            if template is None:
                continue
            out.append(_drawn(template, task_rng, size))
        new[a] = out
    added = sum(1 for a in order for r in new[a] if r.get("origin") == "manual")
    return new, {"moved": moved, "deleted": sorted(deleted), "added": added}


def _edit_keyframes(results: dict, seed: int, size: tuple[int, int]) -> tuple[dict, dict]:
    """One keyframe of every track moved (see :func:`edit_results`)."""
    new, moved = {}, {}
    for a, result_list in results.items():
        new[a] = []
        for result in result_list:
            if result.get("type") != "videorectangle":
                new[a].append(_editor_result(result, "prediction", size))
                continue
            edited = _editor_result(result, "prediction-changed", size)
            sequence = [dict(key) for key in result["value"]["sequence"]]
            rng = random.Random(f"{seed}:{VIDEO_EDIT}:{result['id']}")
            k = rng.randrange(len(sequence))
            sequence[k] = _moved(sequence[k], rng)
            edited["value"]["sequence"] = sequence
            key = sequence[k]
            moved[f"{result['id']}@{key['frame']}"] = [
                key[v] for v in ("x", "y", "width", "height")
            ]
            new[a].append(edited)
    return new, {"moved": moved, "deleted": [], "added": 0}


# ------------------------------------------------------ in Label Studio (untimed)

_SHELL = """
import json, sys
sys.path.insert(0, {bench_dir!r})
import annotator
from django.db import transaction
from django.utils.timezone import now
from tasks.models import Annotation

rows = list(
    Annotation.objects.filter(project_id={project_id}, was_cancelled=False).only("id", "result")
)
new, edits = annotator.edit_results(
    {{a.id: a.result or [] for a in rows}}, {kind!r}, {seed!r}, tuple({size!r})
)
stamp = now()
for a in rows:
    a.result = new[a.id]
    a.result_count = len(a.result)
    a.updated_at = stamp
with transaction.atomic():
    Annotation.objects.bulk_update(rows, ["result", "result_count", "updated_at"], batch_size=500)
with open({edits_path!r}, "w") as f:
    json.dump(edits, f)
emit(len(rows))
"""


def annotate(rest, label_studio, project_id: int, kind: str, edits_path: str, size, seed=0) -> dict:
    """Does the annotator's work on a project (see the module); returns the
    edits (``moved``, ``deleted``, ``added``) and ``detail``, what was done."""
    start = time.monotonic()
    detail = rest.accept_all_predictions(project_id)
    edits: dict = {"moved": {}, "deleted": [], "added": 0}
    if kind != "accept":
        script = _SHELL.format(
            bench_dir=_BENCH_DIR,
            project_id=int(project_id),
            kind=kind,
            seed=seed,
            size=list(size),
            edits_path=edits_path,
        )
        rewritten = label_studio.django_shell(script, timeout=1800)
        with open(edits_path) as f:
            edits = json.load(f)
        os.remove(edits_path)
        detail += (
            f"; rewrote {rewritten} annotations in Django: {len(edits['moved']):,} boxes moved, "
            f"{len(edits['deleted']):,} deleted, {edits['added']:,} added"
        )
    edits["detail"] = f"{detail} ({time.monotonic() - start:.0f} s)"
    return edits


def edit_tasks(rest, project_id: int, kind: str, count: int, size, seed=1) -> dict:
    """The annotator's ``kind`` of edits on the first ``count`` tasks of a
    project already annotated, each task's annotation rewritten with one
    ``PATCH /api/annotations/<id>`` as the editor submits it; returns the
    edits (see :func:`annotate`)."""
    start = time.monotonic()
    body = rest(
        "GET",
        "api/tasks/",
        params={"project": project_id, "fields": "all", "page": 1, "page_size": count},
    )
    annotations = {a["id"]: a["result"] for t in body["tasks"] for a in t["annotations"][-1:]}
    new, edits = edit_results(annotations, kind, seed, tuple(size))
    for annotation_id, result in new.items():
        rest("PATCH", f"api/annotations/{annotation_id}/", json={"result": result})
    edits["detail"] = (
        f"{len(new)} tasks edited through the REST API: {len(edits['moved']):,} boxes moved, "
        f"{len(edits['deleted']):,} deleted, {edits['added']:,} added "
        f"({time.monotonic() - start:.0f} s)"
    )
    return edits


def rest_seconds_per_annotation(rest, project_id: int, count: int = 50) -> float:
    """Seconds one ``PATCH /api/annotations/<id>`` takes (the REST way to
    rewrite an annotation), over ``count`` annotations of the project, each
    written back unchanged."""
    annotations = []
    page = 1
    while len(annotations) < count:
        body = rest(
            "GET",
            "api/tasks",
            params={"project": project_id, "fields": "all", "page": page, "page_size": count},
        )
        tasks = body["tasks"] if isinstance(body, dict) else body
        if not tasks:
            break
        annotations += [a for t in tasks for a in t.get("annotations") or []]
        page += 1
    annotations = annotations[:count]
    start = time.perf_counter()
    for annotation in annotations:
        rest("PATCH", f"api/annotations/{annotation['id']}/", json={"result": annotation["result"]})
    return (time.perf_counter() - start) / max(len(annotations), 1)


# ------------------------------------------------------------ checking a load


def label_boxes(dataset, field: str) -> dict[str, list]:
    """``{label id: bounding box}`` of every label of a detections field (of
    every frame, for a frame-level field ``frames.<name>``)."""
    ids, boxes = dataset.values([f"{field}.detections.id", f"{field}.detections.bounding_box"])
    if field.startswith("frames."):  # one list per frame: flatten the frames
        ids, boxes = ([f for s in v for f in s or []] for v in (ids, boxes))
    return {
        label_id: box
        for sample_ids, sample_boxes in zip(ids, boxes)
        for label_id, box in zip(sample_ids or [], sample_boxes or [])
    }


def keyframe_labels(dataset, field: str, moved: dict) -> dict:
    """``moved`` keyframes (``{"<region id>@<frame>": box}``) as the labels
    they are (``{label id: box}``): a track's region id is the id of its
    first label, and a track is the labels of one ``index`` of a video."""
    ids, indexes, numbers = dataset.values(
        [f"{field}.detections.id", f"{field}.detections.index", "frames.frame_number"]
    )
    first, at = {}, {}
    for video, (sample_ids, sample_indexes, frame_numbers) in enumerate(zip(ids, indexes, numbers)):
        for n, frame_ids, frame_indexes in sorted(zip(frame_numbers, sample_ids, sample_indexes)):
            for label_id, index in zip(frame_ids or [], frame_indexes or []):
                first.setdefault((video, index), label_id)
                at[(video, index, n)] = label_id
    track = {label_id: key for key, label_id in first.items()}
    found = {}
    for key, box in moved.items():
        region, frame = key.rsplit("@", 1)
        found[at[(*track[region], int(frame))]] = box
    return found


def check_load(before: dict[str, list], after: dict[str, list], edits: dict) -> str | None:
    """What is wrong with the labels a load left (``after``), given those sent
    (``before``) and the annotator's ``edits``; None if nothing. Boxes are
    compared to 1e-9 (FiftyOne's built-in backend rebuilds every box from
    its percentages)."""
    moved, deleted = edits["moved"], set(edits["deleted"])
    problems = []
    gone = [i for i in before if i not in after and i not in deleted]
    if gone:
        problems.append(f"{len(gone):,} labels deleted that the annotator kept")
    still = [i for i in deleted if i in after]
    if still:
        problems.append(f"{len(still):,} labels kept that the annotator deleted")
    wrong_moves = wrong_stays = 0
    for label_id, box in before.items():
        if label_id not in after or label_id in deleted:
            continue
        expected = [v / 100 for v in moved[label_id]] if label_id in moved else box
        if not _close(after[label_id], expected):
            if label_id in moved:
                wrong_moves += 1
            else:
                wrong_stays += 1
    if wrong_moves:
        problems.append(f"{wrong_moves:,} moved boxes not where the annotator put them")
    if wrong_stays:
        problems.append(f"{wrong_stays:,} boxes moved that the annotator left")
    new = len([i for i in after if i not in before])
    if new != edits["added"]:
        problems.append(f"{new:,} labels added, the annotator drew {edits['added']:,}")
    return "; ".join(problems) or None


def _close(box, expected, tolerance: float = 1e-9) -> bool:
    return (
        box is not None
        and len(box) == len(expected)
        and all(abs(a - b) <= tolerance for a, b in zip(box, expected))
    )
