"""A Playwright (sync API) driver for Label Studio 1.23.2's own labeling editor,
doing what a human annotator does: log in, open a task, accept the
pre-annotations, select / move / resize / rotate regions, drag a vertex, draw
rectangles, polygons, vector lines, key points and brush strokes, relabel,
fill a TextArea and a Number, delete a region, skip, submit.

Coordinates: every canvas helper takes pixel coordinates relative to the image
*as displayed* (``(0, 0)`` is its top-left corner on screen); :meth:`Editor.at`
turns fractions of the image into those. They are converted to page
coordinates from the bounding box of the editor's ``<img>`` at the moment of
the action: the Konva stage is drawn with the same transform as that element
(the editor may zoom the image a little past the stage, so the stage's own box
is not the image's), and a point outside the visible stage is refused.

What works in 1.23.2 (found by driving it; see tests/test_label_studio_editor.py):

- Opening a task with predictions and no annotation in the data manager
  (``/projects/<id>/data?task=<id>``) makes the editor create a draft
  annotation from the prediction (a tab next to the prediction's tab); in
  the labeling stream (``?labeling=1``) the same happens when the project
  shows predictions to annotators (the default). When the prediction's tab
  is the selected one instead, its menu's "Duplicate Annotation" copies it.
- Regions are Konva shapes on canvases; the region list (outliner,
  ``.lsf-outliner-item``), the label buttons (``.lsf-label``), the TextArea
  and Number controls and the bottom bar (``data-testid=bottombar-*``) are DOM.
- Clicking inside a region selects it (even with a drawing tool active), so
  drawing must start on an empty spot. A selected rectangle shows Konva's
  transformer: 8 anchors on its box and a rotation handle 50 screen pixels
  above the middle of its top edge (rotation is about the centre).
- A label button (or its hotkey) arms the control's tool for one region: it
  is released after a rectangle, polygon, line or key point is made.
- Polygon: click the points, then click the first point again to close it.
- VectorLabels line (not ``closable``): click the points, then press Escape to
  finish it (a second click on the last point or a double click does not).
- Brush: drag with the button down; the label and the brush tool stay armed,
  so press Escape and pick the move tool afterwards.
- With a region selected, Backspace deletes it and clicking a label of its
  control relabels it; the info panel (``data-testid=detailed-region``) shows
  its id.
- Per-region controls (``perRegion="true"``: Choices, TextArea, Number under a
  ``Header``, inside ``View visibleWhen="region-selected"``) are in the DOM all
  the time and shown only while a region they apply to is selected
  (``whenTagName``: a region of that labels control; ``whenLabelValue``: of
  that class). A Choices with ``choice="single"`` shows checkboxes
  (``<label>`` around ``<input name=<choice>>``): clicking one checks it and
  unchecks the others, clicking the checked one unchecks it.
- A Choices with ``layout="select"`` (and no ``showInline``, which overrides
  the layout) is a dropdown, the ``Select`` of ``@humansignal/ui`` inside
  ``.lsf-choices_layout_select``: a ``<button data-testid=select-trigger...>``
  whose ``[data-testid=select-display-value]`` shows the chosen values (each a
  ``[data-testid=choiceOptionText]``), and a hidden native ``<select>`` that
  mirrors them. Clicking the button opens a Radix popover rendered at the end
  of ``<body>`` (``[data-testid=select-popup]``), one cmdk item per choice
  (``[data-testid=select-option-<value>]``, ``data-selected``); clicking one
  picks it and (single) closes the popover. By its source
  (``libs/editor/src/tags/control/Choices.jsx``, ``libs/ui/src/lib/select``)
  picking the chosen one again unpicks it (``toggleSelected``), and Escape is
  also the editor's "unselect the region" key: close it with a click.
- A TextArea's text shows as a box with
  an edit and a delete button (``data-testid=htx-textbox-*``); a region without
  a text shows an input (type, Enter). A Number is an ``<input name=<control>>``
  (fill, Tab). Editing any of them scrolls the image away: scroll it back.
- ``readonly="true"`` on a control tag is not part of any control's model in
  1.23.2 and changes nothing: the control stays editable. A *result* with
  ``"readonly": true`` is read-only: its text has no edit/delete buttons and
  no input, its checkboxes are disabled (its dropdown's button too, by the
  source: ``disabled={item.isReadOnly()}``), and the flag is submitted back,
  in the same place (the plugin sends it after the region's own result).
- Submit posts ``/api/tasks/<id>/annotations`` (201, the new annotation);
  then the button becomes Update (``PATCH /api/annotations/<id>``). Skip exists
  only in the labeling stream, and posts an annotation with
  ``was_cancelled: true`` holding the regions shown.

Waiting is always for something visible or a response, with generous
timeouts; never ``networkidle``, never ``time.sleep``.
"""

from __future__ import annotations

import math
import os
import re

from playwright.sync_api import expect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts", "editor")
SLOW = 90_000
"""Milliseconds to wait for anything that talks to Label Studio."""
ROTATE_ANCHOR_OFFSET = 50
"""Screen pixels between a selected rectangle's top edge and its rotation handle
(Konva's ``rotateAnchorOffset``, which Label Studio keeps)."""

IMAGE = ".lsf-image img"
STAGE = ".lsf-image"
OUTLINER_ITEM = ".lsf-outliner-item"
TABS = ".lsf-annotation-button"


class Editor:
    """Label Studio's labeling editor in one Playwright page."""

    def __init__(self, page, url: str, artifacts: str = ARTIFACTS):
        self.page = page
        self.url = url.rstrip("/")
        self.artifacts = artifacts
        self.shots = 0

    # -- session --------------------------------------------------------------

    def login(self, email: str, password: str) -> None:
        """Logs in with the email/password form of ``/user/login``."""
        page = self.page
        page.goto(f"{self.url}/user/login")
        form_or_app = page.locator("input[name=email], .lsf-menu-header").first
        form_or_app.wait_for(timeout=SLOW)
        if not page.locator("input[name=email]").count():
            return  # this browser context is logged in already
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(password)
        page.get_by_role("button", name="Log in").click()
        # the home page (or the projects list) replaces the form
        page.locator("input[name=password]").wait_for(state="detached", timeout=SLOW)
        self.dismiss_popups()

    def open_task(self, project_id: int, task_id: int, regions: int | None = None) -> None:
        """Opens one task of a project in the data manager's labeling view."""
        self.page.goto(f"{self.url}/projects/{project_id}/data?task={task_id}")
        self.wait_ready(regions)
        found = self.current_task_id()
        if found != task_id:
            raise AssertionError(f"the editor shows task {found}, not task {task_id}")

    def open_stream(self, project_id: int, regions: int | None = None) -> int:
        """Opens the labeling stream ("Label All Tasks"); returns the task it shows."""
        self.page.goto(f"{self.url}/projects/{project_id}/data?labeling=1")
        self.wait_ready(regions)
        return self.current_task_id()

    def wait_ready(self, regions: int | None = None) -> None:
        """Waits until the image is loaded and drawn and the region list shows
        (``regions`` items, if given)."""
        page = self.page
        page.locator(".lsf-bottombar").wait_for(timeout=SLOW)
        page.locator(STAGE + " canvas").first.wait_for(timeout=SLOW)
        page.wait_for_function(
            """(selector) => {
                const img = document.querySelector(selector);
                return img && img.complete && img.naturalWidth > 0
                    && img.getBoundingClientRect().width > 0;
            }""",
            arg=IMAGE,
            timeout=SLOW,
        )
        if regions:
            self.wait_for_regions(regions)
        self.dismiss_popups()
        self.show_image()

    def wait_for_regions(self, count: int, timeout: int = SLOW) -> None:
        """Waits until the region list holds ``count`` regions. The list is
        virtual (it renders only the items in view), so this scrolls it to its
        end and reads the number of the last item (items are numbered 1..n)."""
        self.page.wait_for_function(
            """(n) => {
                const holder = document.querySelector('.lsf-outliner .lsf-tree-list-holder');
                if (holder) holder.scrollTop = holder.scrollHeight;
                const numbers = [...document.querySelectorAll('.lsf-outliner-item__index')]
                    .map((e) => parseInt(e.innerText, 10)).filter((v) => !isNaN(v));
                return numbers.length > 0 && Math.max(...numbers) === n;
            }""",
            arg=count,
            timeout=timeout,
        )
        self.page.locator(".lsf-outliner .lsf-tree-list-holder").evaluate("e => e.scrollTop = 0")

    def dismiss_popups(self) -> None:
        """Closes first-run tours, announcements and toasts, if any shows."""
        page = self.page
        for name in ("Got it", "Skip tour", "Skip", "Dismiss", "Close"):
            for dialog in page.locator("[role=dialog]:visible, .ant-tour:visible").all():
                button = dialog.get_by_role("button", name=name, exact=True)
                if button.count() and button.first.is_visible():
                    button.first.click()

    def current_task_id(self) -> int:
        """The id of the task the editor shows (``#<id>`` in the bottom bar)."""
        text = self.page.locator(".lsf-current-task__task-id").first.inner_text(timeout=SLOW)
        match = re.search(r"\d+", text)
        if not match:
            raise AssertionError(f"no task id in {text!r}")
        return int(match.group())

    def wait_for_task(self, task_id: int) -> None:
        """Waits until the editor shows task ``task_id`` (the labeling stream
        moves to the next task after a submit or a skip)."""
        self.page.wait_for_function(
            """(id) => {
                const shown = document.querySelector('.lsf-current-task__task-id');
                const match = shown && shown.innerText.match(/\\d+/);
                return match !== null && match !== undefined && parseInt(match[0], 10) === id;
            }""",
            arg=task_id,
            timeout=SLOW,
        )
        self.wait_ready()

    def shot(self, name: str) -> str:
        """Saves a screenshot to ``<artifacts>/NN-<name>.png`` (by default
        ``tests/artifacts/editor/``)."""
        os.makedirs(self.artifacts, exist_ok=True)
        self.shots += 1
        path = os.path.join(self.artifacts, f"{self.shots:02d}-{name}.png")
        self.page.screenshot(path=path)
        return path

    # -- annotations -----------------------------------------------------------

    def accept_prediction(self, regions: int | None = None) -> None:
        """Makes the prediction the annotation being edited, as an annotator
        accepts pre-annotations: the editor already made a draft from it when
        the task had no annotation; if the prediction's own tab is selected,
        its menu's "Duplicate Annotation" copies it into a new annotation.
        Then every region listed comes from the prediction."""
        page = self.page
        tabs = page.locator(TABS)
        if tabs.count():
            selected = page.locator(f"{TABS}_selected")
            selected.first.wait_for(timeout=SLOW)
            if selected.locator(".lsf-annotation-button__userpic_prediction").count():
                selected.locator(".lsf-annotation-button__trigger").click()
                page.get_by_text("Duplicate Annotation", exact=True).click()
                page.locator(f"{TABS}_selected{TABS}_draft").wait_for(timeout=SLOW)
        if regions:
            self.wait_for_regions(regions)
        # each region listed (those the virtual list renders) has the
        # prediction's mark
        page.wait_for_function(
            """(sel) => {
                const items = [...document.querySelectorAll(sel)];
                return items.length > 0 && items.every(
                    (item) => item.querySelector('.lsf-outliner-item__control_type_predict'));
            }""",
            arg=OUTLINER_ITEM,
            timeout=SLOW,
        )

    def submit(self) -> dict:
        """Clicks Submit (or Update, once submitted); returns the annotation
        Label Studio saved (the response's JSON)."""
        page = self.page
        bar = page.locator(".lsf-bottombar")
        update = bar.locator("[data-testid=bottombar-update-button]")
        button = update if update.count() else bar.locator("[data-testid=bottombar-submit-button]")
        with page.expect_response(_saves_annotation, timeout=SLOW) as response:
            button.click()
        return _json_of(response.value)

    def skip(self) -> dict:
        """Clicks Skip (labeling stream only); returns the cancelled annotation."""
        page = self.page
        with page.expect_response(_saves_annotation, timeout=SLOW) as response:
            page.locator("[data-testid=bottombar-skip-button]").click()
        return _json_of(response.value)

    # -- geometry --------------------------------------------------------------

    def image_box(self) -> dict:
        """The bounding box of the image as displayed (page coordinates)."""
        box = self.page.locator(IMAGE).bounding_box()
        if not box or box["width"] <= 0:
            raise AssertionError("the image is not displayed")
        return box

    def at(self, fx: float, fy: float) -> tuple[float, float]:
        """Pixel coordinates, relative to the displayed image, of the point at
        fractions ``(fx, fy)`` of its width and height."""
        box = self.image_box()
        return fx * box["width"], fy * box["height"]

    def to_page(self, x: float, y: float) -> tuple[float, float]:
        """Page coordinates of ``(x, y)`` pixels of the displayed image;
        refuses a point outside the visible stage."""
        box = self.image_box()
        px, py = box["x"] + x, box["y"] + y
        stage = self.page.locator(STAGE).bounding_box()
        viewport = self.page.viewport_size
        inside = stage["x"] + 1 <= px <= stage["x"] + stage["width"] - 1 and (
            stage["y"] + 1 <= py <= stage["y"] + stage["height"] - 1
        )
        if not inside or not (0 <= px < viewport["width"] and 0 <= py < viewport["height"]):
            raise AssertionError(f"({x:.0f}, {y:.0f}) of the image is not visible: {px}, {py}")
        return px, py

    def show_image(self) -> None:
        """Scrolls the image to the top of the editor's view (clicking a label
        button lower on the page scrolls it away)."""
        self.page.locator(STAGE).evaluate("e => e.scrollIntoView({block: 'start'})")
        self.page.wait_for_timeout(200)

    # -- mouse -----------------------------------------------------------------

    def click(self, point) -> None:
        """A single click at ``point`` (displayed-image pixels)."""
        page = self.page
        px, py = self.to_page(*point)
        page.mouse.move(px, py, steps=4)
        page.wait_for_timeout(60)
        page.mouse.down()
        page.wait_for_timeout(60)
        page.mouse.up()
        # the editor tells a double click from two clicks within 300 ms
        page.wait_for_timeout(350)

    def drag(self, start, end, steps: int = 15) -> None:
        """Presses at ``start``, moves to ``end`` in ``steps`` steps, releases."""
        self.drag_path([start, end], steps)

    def drag_path(self, points, steps: int = 10) -> None:
        """Presses at the first point, moves through the others, releases."""
        page = self.page
        page_points = [self.to_page(*p) for p in points]
        page.mouse.move(*page_points[0], steps=4)
        page.wait_for_timeout(80)
        page.mouse.down()
        page.wait_for_timeout(80)
        for point in page_points[1:]:
            page.mouse.move(*point, steps=steps)
            page.wait_for_timeout(40)
        page.wait_for_timeout(80)
        page.mouse.up()
        page.wait_for_timeout(400)

    # -- tools and labels -------------------------------------------------------

    def select_tool(self, name: str) -> None:
        """Clicks a toolbar tool by its aria-label (``move-tool``, ``pan``, ...)."""
        self.page.locator(f".lsf-toolbar [aria-label={name}]").click()
        self.page.wait_for_timeout(150)

    def control(self, name: str):
        """The block of the labels control named ``name`` (the plugin puts a
        header with the field's name before each control)."""
        return self.page.locator(
            f"xpath=//*[normalize-space(text())={_xpath_string(name)}]"
            "/following::*[contains(concat(' ', normalize-space(@class), ' '), ' lsf-labels ')][1]"
        )

    def label_button(self, control: str, label: str):
        return (
            self.control(control)
            .locator(".lsf-label")
            .filter(
                has=self.page.locator(
                    ".lsf-label__text", has_text=re.compile(rf"^{re.escape(label)}$")
                )
            )
        )

    def choose_label(self, control: str, label: str) -> None:
        """Clicks a label button: arms the control's tool with that class, or
        relabels the selected region. Scrolls the image back into view."""
        button = self.label_button(control, label)
        button.click()
        self.page.wait_for_timeout(150)
        self.show_image()

    def label_hotkey(self, control: str, label: str) -> None:
        """Presses the hotkey shown on a label button (same effect as a click)."""
        key = self.label_button(control, label).locator(".lsf-label__hotkey").inner_text().strip()
        self.page.keyboard.press(key)
        self.page.wait_for_timeout(150)

    def label_is_armed(self, control: str, label: str) -> bool:
        return "lsf-label_selected" in (
            self.label_button(control, label).get_attribute("class") or ""
        )

    # -- regions ----------------------------------------------------------------

    def select_region_at(self, point) -> str:
        """Selects the region under ``point`` by clicking it; returns its id."""
        self.unselect()
        self.click(point)
        return self.selected_region_id()

    def select_region_in_list(self, label: str, nth: int = 0) -> str:
        """Selects the ``nth`` region listed with class ``label``; returns its id."""
        item = self.page.locator(OUTLINER_ITEM).filter(
            has=self.page.locator(
                ".lsf-outliner-item__title", has_text=re.compile(rf"^{re.escape(label)}$")
            )
        )
        item.nth(nth).click()
        self.page.wait_for_timeout(200)
        return self.selected_region_id()

    def selected_region_id(self) -> str:
        """The id the info panel shows for the selected region."""
        head = self.page.locator("[data-testid=detailed-region] .lsf-detailed-region__head > span")
        head.last.wait_for(timeout=SLOW)
        return head.last.inner_text().strip()

    def unselect(self) -> None:
        """Unselects regions and disarms labels (Escape)."""
        self.page.keyboard.press("Escape")
        self.page.wait_for_timeout(200)

    def delete_selected(self) -> None:
        """Deletes the selected region (Backspace)."""
        self.page.keyboard.press("Backspace")
        self.page.wait_for_timeout(300)

    def move(self, inside, offset) -> None:
        """Drags a region by ``offset`` pixels from a point ``inside`` it."""
        self.drag(inside, (inside[0] + offset[0], inside[1] + offset[1]))

    def resize(self, anchor, offset) -> None:
        """Drags a transformer anchor (a corner or edge middle of the selected
        rectangle) by ``offset`` pixels."""
        self.drag(anchor, (anchor[0] + offset[0], anchor[1] + offset[1]))

    def rotate(self, top_left, bottom_right, degrees: float, steps: int = 15) -> None:
        """Rotates the selected, unrotated rectangle (corners in displayed-image
        pixels) by ``degrees`` clockwise: drags the transformer's rotation
        handle along an arc about the rectangle's centre."""
        cx, cy = (top_left[0] + bottom_right[0]) / 2, (top_left[1] + bottom_right[1]) / 2
        radius = cy - top_left[1] + ROTATE_ANCHOR_OFFSET
        arc = [
            (
                cx + radius * math.sin(math.radians(degrees * k / steps)),
                cy - radius * math.cos(math.radians(degrees * k / steps)),
            )
            for k in range(steps + 1)
        ]
        self.drag_path(arc, steps=2)

    def tool_is_active(self, name: str) -> bool:
        tool = self.page.locator(f".lsf-toolbar .lsf-tool[aria-label={name}]")
        return "lsf-tool_active" in (tool.first.get_attribute("class") or "")

    def leave_move_tool(self, control: str, label: str) -> None:
        """Leaves the move tool, if it is the active tool, by arming and
        disarming a label of ``control``: with the move tool a selected
        polygon gets a box transformer (whose corner anchors can sit on its
        vertices) instead of vertex handles."""
        if not self.tool_is_active("move-tool"):
            return
        self.unselect()
        self.choose_label(control, label)
        self.choose_label(control, label)
        if self.label_is_armed(control, label) or self.tool_is_active("move-tool"):
            raise AssertionError("the move tool is still active")

    def drag_vertex(self, vertex, to) -> None:
        """Drags one vertex of the selected polygon or line (see
        :meth:`leave_move_tool`)."""
        self.drag(vertex, to)

    # -- drawing ---------------------------------------------------------------

    def draw_rectangle(self, control: str, label: str, start, end) -> None:
        """Draws a rectangle of class ``label`` from corner to corner."""
        self.unselect()
        self.choose_label(control, label)
        self.drag(start, end)

    def draw_polygon(self, control: str, label: str, points, hotkey: bool = False) -> None:
        """Draws a polygon: clicks its points, then the first one to close it."""
        self.unselect()
        (self.label_hotkey if hotkey else self.choose_label)(control, label)
        for point in points:
            self.click(point)
        self.click(points[0])

    def draw_line(self, control: str, label: str, points) -> None:
        """Draws an open VectorLabels line: clicks its points, Escape finishes it."""
        self.unselect()
        self.choose_label(control, label)
        for point in points:
            self.click(point)
        self.page.keyboard.press("Escape")
        self.page.wait_for_timeout(300)

    def place_keypoints(self, control: str, label: str, points) -> None:
        """Places key points of class ``label``, one click each (the label is
        released after each point, so it is chosen again)."""
        for point in points:
            self.unselect()
            self.choose_label(control, label)
            self.click(point)

    def brush(self, control: str, label: str, points) -> None:
        """Paints a brush stroke through ``points``, then puts the brush down."""
        self.unselect()
        self.choose_label(control, label)
        self.drag_path(points)
        self.unselect()
        self.select_tool("move-tool")

    # -- per-task controls -------------------------------------------------------

    def set_text(self, name: str, text: str) -> None:
        """Sets the TextArea named ``name`` to ``text``: edits its text if it
        has one (edit, type, save), else types it and presses Enter."""
        page = self.page
        block = page.locator(
            f"xpath=//*[normalize-space(text())={_xpath_string(name)}]"
            "/following::*[@data-testid='textarea-control'][1]"
        )
        block.scroll_into_view_if_needed()
        edit = block.locator("[data-testid=htx-textbox-edit-button]")
        if edit.count():
            edit.first.click()
            field = block.locator("[data-testid=htx-textbox-input]")
            field.fill(text)
            block.locator("[data-testid=htx-textbox-save]").click()
            block.locator("[data-testid=htx-textbox-input]").wait_for(state="detached")
        else:
            field = block.locator("[data-testid=textarea-input]")
            field.fill(text)
            field.press("Enter")
        block.get_by_text(text, exact=True).wait_for()
        self.show_image()

    def set_number(self, name: str, value) -> None:
        """Types ``value`` into the Number control named ``name``."""
        field = self.page.locator(f".lsf-number input[name={_css_string(name)}]")
        field.scroll_into_view_if_needed()
        field.fill(str(value))
        field.press("Tab")
        self.page.wait_for_timeout(200)
        self.show_image()

    # -- per-region controls (label attributes) ----------------------------------

    def attribute(self, header: str):
        """The per-region control shown under the ``Header`` ``header`` (the
        plugin puts one before each attribute's control, valued with the
        attribute's name)."""
        return self.page.locator(
            f"xpath=//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
            f"[normalize-space(text())={_xpath_string(header)}]/following-sibling::*[1]"
        )

    def shown_headers(self) -> list[str]:
        """The texts of the headers shown now (per-region controls' headers
        show only while a region they apply to is selected)."""
        return self.page.evaluate(
            """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
                .filter((e) => e.getClientRects().length > 0
                    && getComputedStyle(e).visibility !== 'hidden')
                .map((e) => e.innerText.trim())"""
        )

    def is_dropdown(self, header: str) -> bool:
        """Whether the Choices under ``header`` is a dropdown (``layout="select"``)."""
        block = self.attribute(header)
        block.wait_for(state="attached", timeout=SLOW)
        return "lsf-choices_layout_select" in (block.get_attribute("class") or "").split()

    def _choice(self, header: str, choice: str):
        block = self.attribute(header)
        return block.locator("label").filter(
            has=self.page.locator(f"input[name={_css_string(choice)}]")
        )

    def _dropdown(self, header: str):
        """The button of the dropdown under ``header``."""
        return self.attribute(header).locator("button[data-testid^=select-trigger]")

    def _shown_choice(self, header: str, choice: str):
        """``choice`` as the closed dropdown under ``header`` shows it chosen."""
        return (
            self.attribute(header)
            .locator("[data-testid=select-display-value] [data-testid=choiceOptionText]")
            .filter(has_text=re.compile(rf"^\s*{re.escape(choice)}\s*$"))
        )

    def checked_choices(self, header: str) -> list[str]:
        """The choices checked (or, in a dropdown, chosen) in the Choices under
        ``header``."""
        if self.is_dropdown(header):
            shown = self.attribute(header).locator(
                "[data-testid=select-display-value] [data-testid=choiceOptionText]"
            )
            return [e.inner_text().strip() for e in shown.all()]
        inputs = self.attribute(header).locator("input:checked")
        return [i.get_attribute("name") for i in inputs.all()]

    def choose(self, header: str, choice: str) -> None:
        """Checks ``choice`` in the per-region Choices under ``header`` (for the
        selected region; a single choice replaces the one checked); in a
        dropdown, opens it and picks ``choice``."""
        if choice in self.checked_choices(header):
            raise AssertionError(f"{choice!r} is checked already: clicking it would uncheck it")
        if self.is_dropdown(header):
            self._pick(header, choice)
        else:
            self._choice(header, choice).click()
            expect(
                self.attribute(header).locator(f"input[name={_css_string(choice)}]")
            ).to_be_checked(timeout=SLOW)
        self.show_image()

    def _pick(self, header: str, choice: str) -> None:
        page = self.page
        button = self._dropdown(header)
        button.scroll_into_view_if_needed()
        button.click()
        expect(button).to_have_attribute("aria-expanded", "true", timeout=SLOW)
        popup = page.locator("[data-testid=select-popup]")
        option = popup.locator(f"[data-testid={_css_string('select-option-' + choice)}]")
        option.click()
        try:  # a single choice closes the popover
            expect(button).to_have_attribute("aria-expanded", "false", timeout=3_000)
        except AssertionError:  # a multiple choice leaves it open
            button.click()
            expect(button).to_have_attribute("aria-expanded", "false", timeout=SLOW)
        popup.wait_for(state="detached", timeout=SLOW)
        expect(self._shown_choice(header, choice)).to_have_count(1, timeout=SLOW)

    def choice_is_enabled(self, header: str, choice: str) -> bool:
        """Whether the annotator can check (or pick) ``choice`` under ``header``."""
        if self.is_dropdown(header):
            return self._dropdown(header).is_enabled()
        return (
            self.attribute(header).locator(f"input[name={_css_string(choice)}]").first.is_enabled()
        )

    def texts(self, header: str) -> list[str]:
        """The texts of the per-region TextArea under ``header``."""
        boxes = self.attribute(header).locator("[data-testid=htx-textbox-content]")
        return [b.inner_text().strip() for b in boxes.all()]

    def text_actions(self, header: str) -> set[str]:
        """What the TextArea under ``header`` lets the annotator do to the
        selected region's text: ``"edit"`` (an edit button), ``"delete"`` (a
        delete button; hovers the text first, as a human would) and ``"type"``
        (an enabled input for a new text)."""
        block = self.attribute(header)
        block.scroll_into_view_if_needed()
        content = block.locator("[data-testid=htx-textbox-content]")
        if content.count():
            content.first.hover()
        found = set()
        for action, selector in (
            ("edit", "[data-testid=htx-textbox-edit-button]"),
            ("delete", "[data-testid=htx-textbox-delete-button]"),
            ("type", "[data-testid=textarea-input]"),
        ):
            if any(e.is_visible() and e.is_enabled() for e in block.locator(selector).all()):
                found.add(action)
        self.show_image()
        return found

    def text_is_editable(self, header: str) -> bool:
        """Whether the TextArea under ``header`` lets the annotator change the
        selected region's text (see :meth:`text_actions`)."""
        return bool(self.text_actions(header))

    def delete_text(self, header: str) -> None:
        """Deletes the selected region's text in the TextArea under ``header``
        (its delete button): the region then has no result of that control."""
        block = self.attribute(header)
        block.scroll_into_view_if_needed()
        block.locator("[data-testid=htx-textbox-content]").first.hover()
        block.locator("[data-testid=htx-textbox-delete-button]").first.click()
        block.locator("[data-testid=htx-textbox-content]").wait_for(state="detached")
        self.show_image()


def _saves_annotation(response) -> bool:
    request = response.request
    url = response.url
    return (request.method == "POST" and re.search(r"/api/tasks/\d+/annotations", url)) or (
        request.method == "PATCH" and re.search(r"/api/annotations/\d+", url)
    )


def _json_of(response) -> dict:
    if response.status >= 400:
        raise AssertionError(f"Label Studio answered {response.status}: {response.text()[:500]}")
    return response.json()


def _xpath_string(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    return 'concat("' + '", "\'", "'.join(text.split("'")) + '")'


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- the video editor ------------------------------------------------------------------

VIDEO_STAGE = ".lsf-video__main .konvajs-content"
VIDEO_MAIN = ".lsf-video__main"
FRAMES_CONTROL = ".lsf-frames-control"
TIMELINE = ".lsf-timeline-frames"
_VIDEO_TAG_JS = """(() => {
    const annotation = window.Htx && window.Htx.annotationStore.selected;
    return annotation && [...annotation.names.values()].find((t) => t.type === 'video');
})()"""


class VideoEditor(Editor):
    """Label Studio 1.23.2's editor on a ``<Video>`` task: ``VideoRectangle``
    tracks and ``TimelineLabels`` segments. Everything :class:`Editor` does on
    the page works here too (login, tabs, the region list, submit); the
    canvas helpers take pixels of the video frame *as displayed*
    (:meth:`at` turns fractions of it into those).

    What works in 1.23.2 (found by driving it and by its source,
    ``libs/editor/src/tags/object/Video``, ``regions/VideoRegion.js``,
    ``components/Timeline``):

    - The frame is drawn on a ``<canvas>`` and the regions on a Konva stage
      of the same size above it (``.lsf-video__main .konvajs-content``); the
      video sits in the middle of the stage at the tag's ``zoom`` and
      ``pan`` (its ``ref``): its page box is computed from those, read from
      the editor's store (``window.Htx``), never acted on through it.
    - The frame counter (``.lsf-frames-control``, "12 of 40") is an input
      once clicked: type a frame number (1-based) and Enter to seek there.
    - A track is drawn by clicking a label of the ``Labels`` control beside
      the ``VideoRectangle`` (it stays armed), then dragging on an empty spot
      of the video: the region starts with one keyframe, on the current
      frame. Dragging a box on another frame (or resizing it) makes or
      updates that frame's keyframe (``enabled`` like the keyframe before
      it); the frames between keyframes are interpolated.
    - The timeline's left buttons (no label, no working tooltip; just before
      the "Hop backward" group) are "Toggle Keypoint" and "Toggle
      Interpolation": with a track selected, the second turns the
      interpolation after the closest keyframe at or before the current frame
      off (that keyframe gets ``enabled: false``: the track ends there) or on.
    - A ``TimelineLabels`` segment: click one of its labels with no region
      selected; a "new" row (``[data-id=new]``) appears at the top of the
      timeline; press on it at the first frame, drag to the last, release.
      The timeline's frames are ``--frame-size`` pixels wide, after a
      ``--offset`` of labels, on ``.lsf-timeline-frames``.
    - Submitting serializes each track's keyframes with ``time = frame /
      frameRate``, ``framesCount`` (``round(duration * frameRate)``) and the
      ``duration`` the browser measured.
    """

    # -- state (read from the editor's store, never changed through it) ---------

    def video_state(self) -> dict:
        """The ``<Video>`` tag's frame, length, frame rate and the video's
        geometry on the stage."""
        return self.page.evaluate(
            f"""() => {{
                const video = {_VIDEO_TAG_JS};
                const ref = video.ref.current;
                return {{
                    frame: video.frame, length: video.length, framerate: Number(video.framerate),
                    zoom: ref.zoom, pan: ref.pan, width: ref.videoDimensions.width,
                    height: ref.videoDimensions.height, stage_width: ref.width,
                    stage_height: ref.height,
                }};
            }}"""
        )

    def frame(self) -> int:
        """The frame shown (1-based)."""
        return self.video_state()["frame"]

    def regions(self) -> list[dict]:
        """The regions of the annotation being edited: ``id``, ``type``
        (``videorectangleregion``, ``timelineregion``), ``selected``,
        ``labels``, and ``sequence`` (tracks) or ``ranges`` (segments)."""
        return self.page.evaluate(
            """() => window.Htx.annotationStore.selected.regionStore.regions.map((r) => ({
                id: r.cleanId || r.id,
                type: r.type,
                selected: !!r.selected,
                labels: Array.from(r.labels || []),
                sequence: r.type === 'videorectangleregion'
                    ? JSON.parse(JSON.stringify(r.sequence)) : null,
                ranges: r.type === 'timelineregion' ? JSON.parse(JSON.stringify(r.ranges)) : null,
            }))"""
        )

    def region(self, region_id: str) -> dict:
        found = [r for r in self.regions() if r["id"] == region_id]
        if len(found) != 1:
            raise AssertionError(f"no region {region_id!r}: {[r['id'] for r in self.regions()]}")
        return found[0]

    # -- readiness and geometry ----------------------------------------------------

    def wait_ready(self, regions: int | None = None) -> None:
        """Waits until the video is loaded (its length and size known) and
        the stage shows (and the region list holds ``regions`` items)."""
        page = self.page
        page.locator(".lsf-bottombar").wait_for(timeout=SLOW)
        page.locator(VIDEO_STAGE).first.wait_for(timeout=SLOW)
        page.wait_for_function(
            f"""() => {{
                const video = {_VIDEO_TAG_JS};
                const ref = video && video.ref.current;
                return !!ref && video.length > 1 && ref.videoDimensions.width > 0;
            }}""",
            timeout=SLOW,
        )
        page.locator(FRAMES_CONTROL).wait_for(timeout=SLOW)
        if regions:
            self.wait_for_regions(regions)
        self.dismiss_popups()
        self.show_image()

    def image_box(self) -> dict:
        """The page box of the video frame as displayed on the stage."""
        state = self.video_state()
        stage = self.page.locator(VIDEO_STAGE).first.bounding_box()
        width, height = state["width"] * state["zoom"], state["height"] * state["zoom"]
        if not stage or width <= 0:
            raise AssertionError("the video is not displayed")
        return {
            "x": stage["x"] + (state["stage_width"] - width) / 2 + state["pan"]["x"],
            "y": stage["y"] + (state["stage_height"] - height) / 2 + state["pan"]["y"],
            "width": width,
            "height": height,
        }

    def to_page(self, x: float, y: float) -> tuple[float, float]:
        """Page coordinates of ``(x, y)`` pixels of the displayed frame;
        refuses a point outside the visible stage."""
        box = self.image_box()
        px, py = box["x"] + x, box["y"] + y
        stage = self.page.locator(VIDEO_STAGE).first.bounding_box()
        viewport = self.page.viewport_size
        inside = stage["x"] + 1 <= px <= stage["x"] + stage["width"] - 1 and (
            stage["y"] + 1 <= py <= stage["y"] + stage["height"] - 1
        )
        if not inside or not (0 <= px < viewport["width"] and 0 <= py < viewport["height"]):
            raise AssertionError(f"({x:.0f}, {y:.0f}) of the video is not visible: {px}, {py}")
        return px, py

    def show_image(self) -> None:
        """Scrolls the video to the top of the editor's view."""
        self.page.locator(VIDEO_MAIN).evaluate("e => e.scrollIntoView({block: 'start'})")
        self.page.wait_for_timeout(200)

    # -- frames ------------------------------------------------------------------------

    def seek(self, frame: int) -> None:
        """Goes to ``frame`` (1-based) by typing it into the frame counter."""
        page = self.page
        page.locator(FRAMES_CONTROL).click()
        field = page.locator(f"{FRAMES_CONTROL} input")
        field.fill(str(frame))
        field.press("Enter")
        page.wait_for_function(
            f"(n) => {{ const video = {_VIDEO_TAG_JS}; return video.frame === n; }}",
            arg=frame,
            timeout=SLOW,
        )
        expect(page.locator(FRAMES_CONTROL)).to_have_text(
            re.compile(rf"^\s*{frame}\s*of\b"), timeout=SLOW
        )
        page.wait_for_timeout(300)  # the stage redraws the regions of that frame

    # -- tracks ------------------------------------------------------------------------

    def labels_block(self, *classes: str):
        """The labels control (``.lsf-labels``) holding every one of ``classes``
        (a video's ``Labels`` of its tracks, or a ``TimelineLabels``)."""
        block = self.page.locator(".lsf-labels")
        for name in classes:
            block = block.filter(
                has=self.page.locator(
                    ".lsf-label__text", has_text=re.compile(rf"^{re.escape(name)}$")
                )
            )
        return block

    def arm_label(self, classes, label: str) -> None:
        """Clicks ``label`` in the labels control of ``classes`` (nothing
        selected first), and checks that it is armed."""
        self.unselect()
        button = (
            self.labels_block(*classes)
            .locator(".lsf-label")
            .filter(
                has=self.page.locator(
                    ".lsf-label__text", has_text=re.compile(rf"^{re.escape(label)}$")
                )
            )
        )
        button.click()
        expect(button).to_have_class(re.compile(r"\blsf-label_selected\b"), timeout=SLOW)
        self.show_image()

    def draw_track(self, classes, label: str, start, end) -> str:
        """Draws a new track of class ``label`` on the current frame, corner
        to corner (on an empty spot), then disarms the label; returns its id."""
        before = {r["id"] for r in self.regions()}
        self.arm_label(classes, label)
        self.drag(start, end)
        self.unselect()
        made = [r for r in self.regions() if r["id"] not in before]
        if len(made) != 1 or made[0]["type"] != "videorectangleregion":
            raise AssertionError(f"no track was drawn: {made}")
        return made[0]["id"]

    def select_track_at(self, point) -> str:
        """Selects the track whose box is under ``point`` on the current
        frame (a click); returns its id."""
        self.unselect()
        self.click(point)
        return self.selected_region_id()

    def _keyframe_buttons(self):
        return self.page.locator(
            "xpath=//*[contains(concat(' ', normalize-space(@class), ' '), ' lsf-timeline-controls ')]"
            "//button[@aria-label='Hop backward']/../preceding-sibling::*[1]/button"
        )

    def toggle_keyframe(self) -> None:
        """The timeline's "Toggle Keypoint" button (a track selected)."""
        buttons = self._keyframe_buttons()
        expect(buttons).to_have_count(2, timeout=SLOW)
        buttons.nth(0).click()
        self.page.wait_for_timeout(300)

    def toggle_interpolation(self) -> None:
        """The timeline's "Toggle Interpolation" button (a track selected):
        ends (or resumes) the selected track at its keyframe at or before the
        current frame."""
        buttons = self._keyframe_buttons()
        expect(buttons).to_have_count(2, timeout=SLOW)
        expect(buttons.nth(1)).to_be_enabled(timeout=SLOW)
        buttons.nth(1).click()
        self.page.wait_for_timeout(300)

    # -- timeline segments -------------------------------------------------------------

    def frame_x(self, frame: int) -> float:
        """The page x of the middle of ``frame`` on the timeline."""
        geometry = self.page.evaluate(
            f"""() => {{
                const frames = document.querySelector('{TIMELINE}');
                const scroll = frames.querySelector('{TIMELINE}__scroll');
                const style = getComputedStyle(frames);
                return {{
                    left: scroll.getBoundingClientRect().left,
                    step: parseFloat(style.getPropertyValue('--frame-size')),
                    offset: parseFloat(style.getPropertyValue('--offset')),
                    scrolled: scroll.scrollLeft,
                }};
            }}"""
        )
        return (
            geometry["left"]
            + geometry["offset"]
            + (frame - 0.5) * geometry["step"]
            - geometry["scrolled"]
        )

    def draw_segment(self, classes, label: str, first: int, last: int) -> str:
        """Draws a ``TimelineLabels`` segment of class ``label`` over frames
        ``first``..``last`` on the timeline's "new" row; returns its id."""
        page = self.page
        before = {r["id"] for r in self.regions()}
        self.arm_label(classes, label)
        row = page.locator(f"{TIMELINE} [data-id=new]")
        row.scroll_into_view_if_needed()
        box = row.bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(self.frame_x(first), y, steps=4)
        page.wait_for_timeout(80)
        page.mouse.down()
        page.wait_for_timeout(80)
        page.mouse.move(self.frame_x(last), y, steps=15)
        page.wait_for_timeout(80)
        page.mouse.up()
        page.wait_for_timeout(400)
        self.unselect()
        made = [r for r in self.regions() if r["id"] not in before]
        if len(made) != 1 or made[0]["type"] != "timelineregion":
            raise AssertionError(f"no segment was drawn: {made}")
        self.show_image()
        return made[0]["id"]
