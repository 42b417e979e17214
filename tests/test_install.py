"""The README's install section, as a new user follows it: a fresh virtual
environment, ``pip install`` of a clone of this repository, the backend named
by ``FIFTYONE_LABELSTUDIO_CONFIG_CLS``, then FiftyOne's own API in plain
Python processes, against the session's Label Studio and database."""

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
from annotator import Annotator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIP_CACHE_DIR = os.path.join(ROOT, ".cache", "pip")
"""scripts/install.sh's, in the checkout: its wheels serve the fresh environments."""


def clone(destination):
    """The repository's files as a clone has them (tracked, and new files
    not ignored), without the checkout's environments or build output."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    for relative in filter(None, listed):
        source = os.path.join(ROOT, relative)
        if os.path.isfile(source):
            target = os.path.join(destination, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)
    return destination


def run(args, env, timeout=1500):
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_readme_install_works_in_a_fresh_virtual_environment(label_studio, tmp_path):
    readme = open(os.path.join(ROOT, "README.md")).read()
    assert "pip install ./fiftyone-labelstudio" in readme
    assert "FIFTYONE_LABELSTUDIO_CONFIG_CLS=fiftyone_labelstudio.LabelStudioBackendConfig" in readme

    source = clone(str(tmp_path / "fiftyone-labelstudio"))
    venv = tmp_path / "venv"
    python = shutil.which("python3") or sys._base_executable
    run([python, "-m", "venv", str(venv)], dict(os.environ))
    # no PYTHONPATH: the package must come from the fresh environment itself
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        FIFTYONE_LABELSTUDIO_CONFIG_CLS="fiftyone_labelstudio.LabelStudioBackendConfig",
        FIFTYONE_LABELSTUDIO_URL=label_studio.url,
        FIFTYONE_LABELSTUDIO_API_KEY=label_studio.pat,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_CACHE_DIR=PIP_CACHE_DIR,
    )
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run([*pip, source], env)
    installed = run(
        [str(venv / "bin" / "python"), "-c", "import fiftyone_labelstudio as f; print(f.__file__)"],
        env,
    )
    assert str(venv) in installed

    images = tmp_path / "images"
    images.mkdir()
    name = f"fresh-venv-{os.getpid()}"
    request = textwrap.dedent(
        f"""
        import fiftyone as fo, fiftyone.core.labels as fol
        from PIL import Image
        Image.new("RGB", (20, 10)).save({str(images / "a.png")!r})
        ds = fo.Dataset({name!r}, persistent=True)
        box = fol.Detection(label="cat", bounding_box=[0.1, 0.1, 0.5, 0.5])
        ds.add_sample(fo.Sample(filepath={str(images / "a.png")!r}, gt=fol.Detections(detections=[box])))
        results = ds.annotate("fresh", backend="labelstudio", label_field="gt", classes=["cat", "dog"])
        print("PROJECT", results.project_id, type(results).__module__)
        """
    )
    out = run([str(venv / "bin" / "python"), "-c", request], env)
    project_id, module = re.search(r"PROJECT (\d+) (\S+)", out).groups()
    assert module == "fiftyone_labelstudio.backend.annotation_backend"

    annotator = Annotator(label_studio.url, label_studio.pat)
    [task] = annotator.tasks(int(project_id)).values()
    result = annotator.predicted(task)
    result[0]["value"]["rectanglelabels"] = ["dog"]
    annotator.submit(task, result)

    load = textwrap.dedent(
        f"""
        import fiftyone as fo
        ds = fo.load_dataset({name!r})
        ds.load_annotations("fresh")
        print("LABELS", ds.values("gt.detections.label"))
        ds.load_annotation_results("fresh").cleanup()
        ds.delete()
        """
    )
    assert "LABELS [['dog']]" in run([str(venv / "bin" / "python"), "-c", load], env)


@pytest.mark.parametrize(
    "requirement", ["fiftyone", "label-studio-sdk", "numpy", "pillow", "httpx"]
)
def test_requirements_txt_and_pyproject_pin_the_same_versions(requirement):
    import tomllib

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        declared = tomllib.load(f)["project"]["dependencies"]
    with open(os.path.join(ROOT, "requirements.txt")) as f:
        listed = [line.split("#")[0].strip() for line in f if line.split("#")[0].strip()]

    def spec(lines):
        found = [line.replace(" ", "") for line in lines if re.match(rf"{requirement}\b", line)]
        assert len(found) == 1, (requirement, lines)
        return found[0]

    assert spec(declared) == spec(listed)


def test_the_rle_codec_is_bit_exact_under_numpy_1(tmp_path):
    """The brush codec (numpy only) under numpy 1.x gives what Label Studio's
    own ``label_studio_sdk.converter.brush`` gives here (numpy 2.x)."""
    import json

    import numpy as np
    from label_studio_sdk.converter import brush

    rng = np.random.default_rng(11)
    masks = [rng.uniform(size=(h, w)) > p for h, w, p in ((31, 45, 0.5), (8, 8, 0.9), (64, 3, 0.2))]
    masks.append(np.zeros((5, 7), bool))
    cases = [
        {
            "mask": m.astype(int).tolist(),
            "rle": [int(v) for v in brush.mask2rle(m.astype(np.uint8) * 255)],
        }
        for m in masks
    ]
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    venv = tmp_path / "numpy1"
    python = shutil.which("python3") or sys._base_executable
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_CACHE_DIR"] = PIP_CACHE_DIR
    run([python, "-m", "venv", str(venv)], env)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "numpy==1.26.4"], env)
    check = textwrap.dedent(
        f"""
        import importlib.util, json
        import numpy as np
        assert np.__version__.startswith("1."), np.__version__
        spec = importlib.util.spec_from_file_location("rle", {os.path.join(ROOT, "conversions", "rle.py")!r})
        rle = importlib.util.module_from_spec(spec); spec.loader.exec_module(rle)
        for case in json.load(open({str(tmp_path / "cases.json")!r})):
            mask = np.array(case["mask"], bool)
            assert list(rle.mask_to_rle(mask)) == case["rle"]
            assert np.array_equal(rle.rle_to_mask(case["rle"], *mask.shape), mask)
        print("OK", np.__version__)
        """
    )
    assert "OK 1.26.4" in run([str(venv / "bin" / "python"), "-c", check], env)
