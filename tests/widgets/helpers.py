"""Drive widgets the way the frontend does: canvas events and Image values."""

from __future__ import annotations


def canvas_event(canvas, name: str, x: float, y: float) -> None:
    """Deliver an ipycanvas frontend mouse event (mouse_down / mouse_move / mouse_up / mouse_out)."""
    canvas._handle_frontend_event(canvas, {"event": name, "x": x, "y": y}, [])


def touch_event(canvas, name: str, points: list[tuple[float, float]]) -> None:
    canvas._handle_frontend_event(canvas, {"event": name, "touches": [{"x": x, "y": y} for x, y in points]}, [])


def draw(canvas, points: list[tuple[float, float]]) -> None:
    canvas_event(canvas, "mouse_down", *points[0])
    for point in points[1:]:
        canvas_event(canvas, "mouse_move", *point)
    canvas_event(canvas, "mouse_up", *points[-1])


def choose(dropdown, value) -> None:
    """Pick ``value`` in a Dropdown / ToggleButtons the way the ipywidgets 8 frontend does: by index."""
    values = [option[1] if isinstance(option, tuple) else option for option in dropdown.options]
    dropdown.set_state({"index": values.index(value)})


def click(button) -> None:
    """Click a Button as the frontend does."""
    button._handle_button_msg(None, {"event": "click"}, [])


def element_click(mark, index: int) -> None:
    """Click element ``index`` of a bqplot mark as the frontend does."""
    mark._handle_custom_msgs(mark, {"event": "element_click", "data": {"index": index}}, [])
