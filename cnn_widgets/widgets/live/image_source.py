"""ImageSource: put any image in front of the network — one of the data set's, or a picture file.

For every model, whatever its input: a picker over the session's labelled images (by
class, by position, the model's mistakes first) and a file drop (PNG or JPEG, resized
to the model's input and shown as the network sees it). What it chose goes where a
test image goes (:meth:`Session.show_test_image`): onto the drawing for models the pad
feeds, straight to the live model for the others.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from ...data.pictures import picture_for_model
from ..controls import Picker, Toggles, keep_in_step
from ..picture import style
from ..view import SessionView, StatusLine

__all__ = ["ImageSource", "MISTAKE_SCAN"]

#: Images whose predictions are computed for "mistakes first" (the first ones of the data set).
MISTAKE_SCAN = 2000


class ImageSource(SessionView, widgets.VBox):
    """Choose the image the network sees: from the data set or from a picture file.

    Args:
        session: The session (or a model: a session of its own).

    Traits:
        label: The class whose images are offered; -1 for every class.
        order: ``"index"`` (data-set order) or ``"mistakes"`` (the model's mistakes first).
        position: Which of the offered images is shown (0 = the first).
    """

    label = traitlets.Int(-1, help="the class whose images are offered; -1 for all classes")
    order = traitlets.Enum(["index", "mistakes"], "index",
                           help="'index': data-set order; 'mistakes': images the model gets wrong first")
    position = traitlets.Int(0, help="which of the offered images is in front of the network (0 = the first)")
    status = traitlets.Unicode("", help="the last message, plain text")

    def __init__(self, session: Any = None, **kwargs: Any) -> None:
        self._attach(session)
        self.model = self.session.model
        self._predicted: np.ndarray | None = None  # the model's answers on the first MISTAKE_SCAN images
        self._offered = np.zeros(0, np.int64)
        self._note = ""  # what the order says, e.g. " (3 mistakes first, of the first 2,000 images)"
        self.class_picker = Picker(options=[("every class", -1)] + [(name, i) for i, name in
                                                                    enumerate(self.model.class_names)],
                                   description="class", layout=widgets.Layout(width="220px"))
        self.order_picker = Toggles(options=[("by index", "index"), ("mistakes first", "mistakes")],
                                    style={"button_width": "110px"})
        self.position_box = widgets.BoundedIntText(0, min=0, max=0, description="image",
                                                   layout=widgets.Layout(width="160px"))
        self.previous_button = widgets.Button(description="◀", layout=widgets.Layout(width="36px"),
                                              tooltip="the previous image")
        self.next_button = widgets.Button(description="▶", layout=widgets.Layout(width="36px"),
                                          tooltip="the next image")
        self.upload = widgets.FileUpload(accept=".png,.jpg,.jpeg,image/png,image/jpeg", multiple=False,
                                         description="picture file")
        self.previous_button.add_class("cnnw-source-previous")
        self.next_button.add_class("cnnw-source-next")
        self.upload.add_class("cnnw-source-file")
        self.seen = widgets.Image(format="png", layout=widgets.Layout(width="112px", height="112px"))
        self.seen.add_class("cnnw-pixelated")
        self.seen_label = widgets.HTML()
        self.seen_label.add_class("cnnw-source-seen")
        self.status_line = StatusLine("cnnw-image-source-status")
        height, width, channels = self.model.input_shape
        title = widgets.HTML(f"<b>Image for the network</b> <small>({height}×{width}×{channels})</small>")
        super().__init__([
            style(),
            title,
            widgets.HBox([self.class_picker, self.order_picker]),
            widgets.HBox([self.previous_button, self.position_box, self.next_button, self.upload]),
            widgets.HBox([self.seen, self.seen_label]),
            self.status_line,
        ], **kwargs)
        self.add_class("cnnw-image-source")
        keep_in_step(self, "label", self.class_picker)
        keep_in_step(self, "order", self.order_picker)
        keep_in_step(self, "position", self.position_box)
        self.previous_button.on_click(lambda _: self._step(-1))
        self.next_button.on_click(lambda _: self._step(1))
        self.upload.observe(self._uploaded, "value")
        self._watch(self.session.live, self._image_changed, "image")
        data = self.session.data.test_set
        if data is None:
            for control in (self.class_picker, self.order_picker, self.position_box, self.previous_button,
                            self.next_button):
                control.disabled = True
            self._say(f"data set: {self.session.data.message or 'none'}; a picture file still works")
        else:
            self._offer()
        self._image_changed(None)

    # ------------------------------------------------------------------ the data set
    @traitlets.validate("label")
    def _valid_label(self, proposal: dict[str, Any]) -> int:
        value = proposal["value"]
        if not -1 <= value < self.model.classes:
            raise traitlets.TraitError(f"label must be -1 (every class) or a class 0–{self.model.classes - 1}; "
                                       f"got {value}")
        return value

    @traitlets.validate("position")
    def _valid_position(self, proposal: dict[str, Any]) -> int:
        value, count = proposal["value"], len(self._offered)
        if count and not 0 <= value < count:
            raise traitlets.TraitError(f"position must be 0–{count - 1} (the images offered); got {value}")
        return value

    @traitlets.observe("label", "order")
    def _choice_changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "order" and change["new"] == "mistakes" and self._predicted is None:
            self._predict()
            return
        self._offer()

    @traitlets.observe("position")
    def _position_changed(self, change: dict[str, Any]) -> None:
        self._show()

    def _step(self, by: int) -> None:
        if len(self._offered):
            self.position = (self.position + by) % len(self._offered)

    def _predict(self) -> None:
        """The model's answers on the first images, on the worker; then the mistakes come first."""
        data = self.session.data.test_set
        if data is None or self.closed:
            return
        count = min(len(data), MISTAKE_SCAN)
        self._say(f"finding the model's mistakes among the first {count:,} images …")

        def work(job: Any) -> np.ndarray:
            return np.argmax(self.model.predict(data.images[:count]), axis=1)

        def done(predicted: np.ndarray) -> None:
            if not self.closed:
                self._predicted = predicted
                self._offer()

        self.session.worker.submit(work, name="the model's answers for 'mistakes first'",
                                   key=("image source", id(self)),
                                   on_done=done)

    def _offer(self) -> None:
        """The images on offer for the class and order chosen; the first one shown."""
        data = self.session.data.test_set
        if data is None:
            return
        chosen = np.arange(len(data)) if self.label < 0 else data.of_class(self.label)
        note = ""
        if self.order == "mistakes" and self._predicted is not None:
            scanned = chosen[chosen < len(self._predicted)]
            wrong = scanned[self._predicted[scanned] != data.labels[scanned]]
            chosen = np.concatenate([wrong, np.setdiff1d(chosen, wrong, assume_unique=True)])
            note = f" ({len(wrong):,} mistakes first, of the first {len(self._predicted):,} images)"
        self._offered, self._note = chosen, note
        with self.hold_trait_notifications():
            self.position_box.max = max(len(chosen) - 1, 0)
        what = "every class" if self.label < 0 else f"class {self.model.class_names[self.label]}"
        if not len(chosen):
            self._say(f"no image of {what} in the data set", error=True)
            return
        if self.position != 0:
            self.position = 0  # shows it
        else:
            self._show()

    def _show(self) -> None:
        if not len(self._offered) or self.closed:
            return
        index = int(self._offered[self.position])
        try:
            source = self.session.show_test_image(index)
        except (TypeError, ValueError) as error:
            self._say(f"No image: {error}", error=True)
            return
        mistake = ""
        if self._predicted is not None and index < len(self._predicted):
            data = self.session.data.test_set
            guess = int(self._predicted[index])
            if guess != int(data.labels[index]):
                mistake = f" — the model says {self.model.class_names[guess]}"
        self._say(f"{self.position + 1:,} of {len(self._offered):,}{self._note}: {source}{mistake}")

    # ------------------------------------------------------------------ a picture file
    def _uploaded(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        item = files[0]
        name, content = str(item.get("name", "the picture")), item.get("content", b"")
        session = self.session

        def work(job: Any) -> tuple[np.ndarray, str]:
            return picture_for_model(content, self.model.input_shape, name)

        def done(result: tuple[np.ndarray, str]) -> None:
            image, source = result
            if self.closed:
                return
            if session.drawing is not None:
                session.drawing.load_image(image[..., 0], source)
            else:
                session.live.show(image if image.shape[-1] != 1 else image[..., 0], source)
            self._say(f"picture file: {source}")

        def failed(error: BaseException) -> None:
            if not self.closed:
                self._say(f"Picture refused: {error}", error=True)

        session.worker.submit(work, name=f"reading {name}", key=("image source file", id(self)), on_done=done,
                              on_error=failed)

    # ------------------------------------------------------------------ what the network sees
    def _image_changed(self, change: Any) -> None:
        if self.closed:
            return
        live = self.session.live
        try:
            self.seen.value = live.image_png()
        except (TypeError, ValueError):
            return
        self.seen_label.value = (f"<small>what the network sees:<br>{html.escape(live.source or 'a blank image')}"
                                 "</small>")
