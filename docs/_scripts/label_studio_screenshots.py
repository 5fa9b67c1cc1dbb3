"""Screenshots of a BatchBALD round in a real Label Studio, for the docs.

Starts a local server the way the tests do (tests/annotation/
_label_studio_server.py), pushes scikit-learn's digits as an image project,
runs two rounds of :func:`skbatchbald.annotation.annotation_round` (a random
cold start, answered through the API by a simulated annotator, then BatchBALD
with an MC-dropout MLP), and photographs, with headless Chromium driven by
Playwright, the Data Manager showing the acquired batch and the labelling view
of the task Label Studio serves next. Run from the repository root::

    make docs-screenshots

which builds .venv (with the ``screenshots`` extra: Playwright) and
.venv-label-studio, and runs this file with the system's Chromium
(``apt-get install chromium``; Playwright's own browser download is not used).
The PNGs land in docs/_static/annotation/.
"""

import argparse
import base64
import io
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from label_studio_sdk import LabelStudio
from PIL import Image
from playwright.sync_api import expect, sync_playwright
from sklearn.datasets import load_digits

from skbatchbald import (
    ActiveLearner,
    BatchBALDQuery,
    MCDropoutClassifier,
    RandomQuery,
)
from skbatchbald.annotation import LabelStudioAnnotator, annotation_round, label_config
from skbatchbald.nn import BayesianMLP

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "annotation"))
import _label_studio_server as server_lifecycle  # noqa: E402

BATCH = 10
# Chromium as root in a container, with nothing but the local server to talk
# to: no sandbox (needs user namespaces), no GPU, no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The Data Manager view of the batch: the tasks with a prediction and no
# annotation yet, in acquisition order (the prediction score is rank / size).
HIDDEN = [
    f"tasks:{name}"
    for name in (
        "data",
        "data.image",  # an 8x8 digit is a few pixels high in a table row
        "inner_id",
        "completed_at",
        "cancelled_annotations",
        "total_predictions",
        "annotators",
        "annotations_results",
        "annotations_ids",
        "predictions_results",
        "file_upload",
        "storage_filename",
        "created_at",
        "updated_at",
        "updated_by",
        "avg_lead_time",
        "draft_exists",
    )
]


def _number_filter(field, operator, value):
    return {
        "filter": f"filter:tasks:{field}",
        "operator": operator,
        "type": "Number",
        "value": value,
    }


def digit_uri(image, scale=32):
    """A data URI of a digit (64 values in [0, 16]) as a crisp PNG."""
    pixels = (255 - image.reshape(8, 8) * (255 / 16)).astype(np.uint8)
    png = io.BytesIO()
    Image.fromarray(np.kron(pixels, np.ones((scale, scale), np.uint8))).save(
        png, format="PNG", optimize=True
    )
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()


def learner(strategy):
    net = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        module__hidden_sizes=(128,),
        classes=np.arange(10),  # the first batches may miss some classes
        lr=3e-3,
        max_epochs=100,
        batch_size=64,
        iterator_train__shuffle=True,
        n_mc_samples=20,
        random_state=0,
        verbose=0,
    )
    return ActiveLearner(net, query_strategy=strategy)


def answer(client, task_id, y):
    """Label a task as a person would, through the API."""
    task = client.tasks.get(id=str(task_id))
    label = str(y[int(task.data["pool_index"])])
    result = [
        {
            "from_name": "label",
            "to_name": "image",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]
    client.annotations.create(id=task_id, result=result)


def run_rounds(server, X, y):
    """Two rounds on a fresh digits project.

    Returns its id, the task of the BatchBALD batch's first pick, the batch.
    """
    client = LabelStudio(base_url=server.url, api_key=server.api_key)
    project = client.projects.create(
        title="Digits (skbatchbald)", label_config=label_config(range(10))
    ).id
    annotator = LabelStudioAnnotator(
        server.url,
        server.api_key,
        project,
        classes=range(10),
        task_data=lambda i: {"image": digit_uri(X[i])},
    )
    task_ids = annotator.add_tasks(range(len(X)))
    X_pool = (X / 16).astype(np.float32)
    first = annotation_round(learner(RandomQuery(random_state=0)), X_pool, annotator)
    for i in first.requested:
        answer(client, task_ids[int(i)], y)
    bald = learner(BatchBALDQuery(random_state=0))
    second = annotation_round(bald, X_pool, annotator)
    client.views.create(
        project=project,
        data={
            "title": "BatchBALD batch",
            "ordering": ["tasks:predictions_score"],
            "hiddenColumns": {"explore": HIDDEN, "labeling": HIDDEN},
            "filters": {
                "conjunction": "and",
                "items": [
                    _number_filter("total_predictions", "greater", 0),
                    _number_filter("total_annotations", "equal", 0),
                ],
            },
        },
    )
    return project, task_ids[int(second.requested[0])], second


def shrink(path, width):
    """Resize a screenshot to width pixels, as a palette PNG (a few 10 KB)."""
    image = Image.open(path).convert("RGB")
    height = round(image.height * width / image.width)
    image = image.resize((width, height), Image.LANCZOS)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
        path, optimize=True
    )


def screenshots(server, project, first_task, out, *, chromium):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.goto(f"{server.url}/user/login/")
        page.fill("input[name=email]", server.username)
        page.fill("input[name=password]", server.password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/user/login" not in url)

        page.goto(f"{server.url}/projects/{project}/data")
        page.get_by_text("BatchBALD batch", exact=True).click()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(2000)
        page.screenshot(path=out / "data_manager.png")

        page.get_by_role("button", name="Label All Tasks").click()
        page.get_by_role("button", name="Submit").first.wait_for()
        page.wait_for_load_state("networkidle")
        # Label Studio serves the batch's first pick first: the page says so.
        expect(page.locator(".lsf-current-task__task-id")).to_contain_text(
            str(first_task)
        )
        page.screenshot(path=out / "labelling.png")
        browser.close()
    for name in ("data_manager.png", "labelling.png"):
        shrink(out / name, 960)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/_static/annotation")
    parser.add_argument(
        "--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium")
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    X, y = load_digits(return_X_y=True)
    with tempfile.TemporaryDirectory(prefix="label-studio-") as tmp:
        server = server_lifecycle.start(tmp)
        print(
            f"Label Studio up in {server.startup_s:.0f} s at {server.url}", flush=True
        )
        try:
            project, first_task, second = run_rounds(server, X, y)
            print(f"BatchBALD batch (pool rows, in order): {second.requested}")
            screenshots(server, project, first_task, args.out, chromium=args.chromium)
        finally:
            server_lifecycle.stop(server)
    for path in sorted(args.out.glob("*.png")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
