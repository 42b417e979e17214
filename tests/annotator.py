"""A simulated annotator: does through Label Studio's API what a person does in
its editor (accept or edit pre-annotations, draw, delete, skip)."""

import copy

from label_studio_sdk import LabelStudio


class Annotator:
    """Works on the tasks of one Label Studio server as its admin user."""

    def __init__(self, url, api_key):
        self.ls = LabelStudio(base_url=url, api_key=api_key)

    def tasks(self, project_id):
        """``{sample id: task dict}`` with predictions and annotations."""
        tasks = {}
        for task in self.ls.tasks.list(project=project_id, fields="all", page_size=1000):
            task = task.dict()
            tasks[task["data"]["sample_id"]] = task
        return tasks

    def get(self, path):
        """A GET of Label Studio's REST API (``path`` like ``"api/tasks/3"``), as JSON."""
        return self.ls._client_wrapper.httpx_client.request(path, method="GET").json()

    def as_served(self, project_id, sample_ids):
        """``(task ids, tasks, labeling config)`` of the samples' tasks, exactly
        as Label Studio serves them to its editor."""
        tasks = self.tasks(project_id)
        task_ids = [tasks[sample_id]["id"] for sample_id in sample_ids]
        served = [self.get(f"api/tasks/{t}") for t in task_ids]
        return task_ids, served, self.get(f"api/projects/{project_id}")["label_config"]

    @staticmethod
    def predicted(task):
        """A copy of the results the task's prediction holds."""
        predictions = task.get("predictions") or []
        return copy.deepcopy(predictions[0]["result"]) if predictions else []

    def submit(self, task, result):
        """Submits an annotation with ``result`` (an accepted or edited prediction)."""
        return self.ls.annotations.create(id=task["id"], result=result, was_cancelled=False)

    def skip(self, task):
        """Skips (cancels) the task, as the editor's Skip button does."""
        return self.ls.annotations.create(id=task["id"], result=[], was_cancelled=True)

    def accept_all(self, project_id):
        """Accepts every prediction unchanged, as one bulk action."""
        self.ls._client_wrapper.httpx_client.request(
            "api/dm/actions",
            method="POST",
            params={"id": "predictions_to_annotations", "project": project_id},
            json={"selectedItems": {"all": True, "excluded": []}},
        )
