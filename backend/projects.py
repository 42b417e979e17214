"""Label Studio projects: creation with a unique title, progress counts, and
deletion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from .client import Connection, LabelStudioError, NotFoundError, UnknownOutcome

TITLE_LIMIT = 50
"""Label Studio refuses project titles longer than this."""

_COUNTS = (
    "id",
    "task_number",
    "num_tasks_with_annotations",
    "skipped_annotations_number",
    "total_annotations_number",
)
_COUNTS_PAGE = 100


def default_title(dataset_name: str) -> str:
    """``FiftyOne_<dataset name>``, cut to fit Label Studio's limit.

    Example:
        >>> default_title("quickstart")
        'FiftyOne_quickstart'
    """
    return f"FiftyOne_{dataset_name.replace(' ', '_')}"[:TITLE_LIMIT]


def unique_title(connection: Connection, title: str) -> str:
    """``title``, or ``title_2``, ``title_3``, ... when projects already use it,
    always within 50 characters."""
    params = {"title": title, "page_size": 100, "include": "id,title"}  # not the counts
    taken = {project.get("title") for project in _paged(connection, "api/projects", params)}
    candidate, number = title, 1
    while candidate in taken:
        number += 1
        suffix = f"_{number}"
        candidate = title[: TITLE_LIMIT - len(suffix)] + suffix
    return candidate


MARKER = "fiftyone-labelstudio-request:"
"""Begins the line of a project's description that names the request which
made it: the proof that a project is this plugin's to delete."""


def description(request_id: str, dataset_name: str) -> str:
    """A project's description: for people, and with the request's marker.

    Example:
        >>> description("abc", "quickstart").splitlines()[-1]
        'fiftyone-labelstudio-request:abc'
    """
    return (
        f"Made by FiftyOne's Label Studio plugin (@annotate/labelstudio) for the dataset "
        f"{dataset_name!r}.\n{MARKER}{request_id}"
    )


def is_ours(project: dict, title: str, request_id: str) -> bool:
    """Whether a project is the one a request made: same title and marker."""
    marker = f"{MARKER}{request_id}"
    lines = str(project.get("description") or "").splitlines()
    return project.get("title") == title and marker in lines


def create_project(
    connection: Connection,
    title: str,
    label_config: str,
    request_id: str,
    about: str,
    **settings,
) -> int:
    """Creates a project (titled, with the request's marker in its
    description ``about``); returns its id. When the server fails without
    saying whether it made the project, looks for it before trying again, so
    that a request never makes two."""
    for attempt in range(2):
        try:
            project = connection.request(
                "POST",
                "api/projects",
                f"create project {title!r}",
                json={
                    "title": title,
                    "label_config": label_config,
                    "description": about,
                    **settings,
                },
            )
            return project["id"]
        except UnknownOutcome:
            made = find_project(connection, title, request_id)
            if made is not None:
                return made
            if attempt:
                raise
    raise AssertionError("unreachable")


def find_project(connection: Connection, title: str, request_id: str) -> int | None:
    """The id of the project a request made, if the server has it."""
    params = {"title": title, "page_size": 100, "include": "id,title,description"}
    for project in _paged(connection, "api/projects", params):
        if is_ours(project, title, request_id):
            return project["id"]
    return None


def find_target(connection: Connection, project_id, title) -> dict | None:
    """The existing project a request names (by id, or by an exact title),
    with its labeling config; None when it names none (a new project).
    Raises ValueError when the id does not exist or the title is ambiguous."""
    if project_id is not None:
        project = read_project(connection, project_id, "id,title,label_config")
        if project is None:
            raise ValueError(
                f"project_id={project_id}: Label Studio at {connection.url} has no such project"
            )
        return project
    if not title:
        return None
    params = {"title": title, "page_size": 100, "include": "id,title,label_config"}
    same = [p for p in _paged(connection, "api/projects", params) if p.get("title") == title]
    if len(same) > 1:
        raise ValueError(
            f"project_name={title!r} names {len(same)} projects (ids "
            f"{', '.join(str(p['id']) for p in same)}); give project_id instead"
        )
    return same[0] if same else None


def update_project(connection: Connection, project_id: int, **changes) -> None:
    connection.request(
        "PATCH",
        f"api/projects/{project_id}/",
        f"update project {project_id}",
        json=changes,
    )


def read_project(
    connection: Connection, project_id: int, include: str = "id,title,description"
) -> dict | None:
    """A project's id, title and description, or None when it does not exist."""
    try:
        return connection.request(
            "GET",
            f"api/projects/{project_id}/",
            f"read project {project_id}",
            params={"include": include},
        )
    except NotFoundError:
        return None


def label_config(connection: Connection, project_id: int) -> str | None:
    """The project's labeling config as it is now, or None when the project is gone."""
    try:
        project = connection.request(
            "GET",
            f"api/projects/{project_id}/",
            f"read project {project_id}",
            params={"include": "id,label_config"},
        )
    except LabelStudioError as error:
        if error.status == 404:
            return None
        raise
    return project.get("label_config")


def users(connection: Connection) -> dict[int, str]:
    """``{user id: email}`` of the server's users (annotations name their
    annotator by id)."""
    found = connection.request("GET", "api/users/", "list the users") or []
    return {user["id"]: user.get("email") or user.get("username") for user in found}


def project_url(connection_url: str, project_id: int) -> str:
    """Where a person opens the project."""
    return f"{connection_url}/projects/{project_id}"


@dataclass(frozen=True)
class Progress:
    """How far the annotators have got with a project's tasks.

    ``annotated`` counts tasks with a completed annotation, ``skipped`` the
    annotations that were cancelled (skipped), ``remaining`` what is left.
    """

    total: int
    annotated: int
    skipped: int
    remaining: int

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "annotated": self.annotated,
            "skipped": self.skipped,
            "remaining": self.remaining,
        }


def progress(connection: Connection, project_ids: Iterable[int]) -> dict[int, Progress]:
    """Progress of several projects in one request per 100 of them; projects
    that no longer exist are left out."""
    ids = sorted(set(project_ids))
    found = {}
    for start in range(0, len(ids), _COUNTS_PAGE):
        page = ids[start : start + _COUNTS_PAGE]
        body = connection.request(
            "GET",
            "api/projects/counts/",
            "read project progress",
            params={
                "ids": ",".join(map(str, page)),
                "include": ",".join(_COUNTS),
                "page_size": _COUNTS_PAGE,
            },
        )
        for counts in body.get("results", []):
            total = counts.get("task_number") or 0
            annotated = counts.get("num_tasks_with_annotations") or 0
            skipped = counts.get("skipped_annotations_number") or 0
            found[counts["id"]] = Progress(
                total, annotated, skipped, max(total - annotated - skipped, 0)
            )
    return found


def delete_project(connection: Connection, project_id: int) -> bool:
    """Deletes a project and everything in it, in one request; False when it
    was already gone."""
    try:
        connection.request("DELETE", f"api/projects/{project_id}/", f"delete project {project_id}")
    except LabelStudioError as error:
        if error.status == 404:
            return False
        raise
    return True


def _paged(connection: Connection, path: str, params: dict) -> Iterator[dict]:
    page = 1
    while True:
        try:
            body = connection.request("GET", path, "list projects", params={**params, "page": page})
        except LabelStudioError as error:
            if error.status == 404:  # past the last page
                return
            raise
        results = body.get("results", body) if isinstance(body, dict) else body
        yield from results
        if not isinstance(body, dict) or not body.get("next"):
            return
        page += 1
