"""Storyboards: load from JSON (a file or a dict), validate, convert to the ``Storyboard`` message.

The JSON form::

    {"shots": [{"id": "1", "beats": [{"id": "1.1", "prompt": "…", "transition": "hard_cut"}]}]}

``transition`` is ``cut`` (the default), ``hard_cut`` or ``continue``.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, Mapping, Union

from .errors import StoryboardError
from .proto import generation_pb2

__all__ = ["load_storyboard", "storyboard_to_dict", "TRANSITIONS", "StoryboardSource"]

StoryboardSource = Union[generation_pb2.Storyboard, Mapping[str, Any], str, "os.PathLike[str]"]

TRANSITIONS: Dict[str, int] = {
    "cut": generation_pb2.CUT,
    "hard_cut": generation_pb2.HARD_CUT,
    "continue": generation_pb2.CONTINUE,
}
_TRANSITION_NAMES = {value: name for name, value in TRANSITIONS.items()}
_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _id_problem(value: Any) -> str:
    """Why ``value`` is not a valid shot or beat id, or "" when it is."""
    if value is None or value == "":
        return "id is missing"
    if not isinstance(value, str):
        return f"id must be a string, got {json.dumps(value)}"
    if not _ID.fullmatch(value) or value in (".", ".."):
        return f"id {value!r} is invalid (1 to 64 of A-Z a-z 0-9 . _ -, not '.' or '..')"
    return ""


def storyboard_to_dict(storyboard: generation_pb2.Storyboard) -> Dict[str, Any]:
    """The JSON form of a ``Storyboard`` message."""
    return {
        "shots": [
            {
                "id": shot.id,
                "beats": [
                    {"id": beat.id, "prompt": beat.prompt,
                     "transition": _TRANSITION_NAMES.get(beat.transition, str(beat.transition))}
                    for beat in shot.beats
                ],
            }
            for shot in storyboard.shots
        ]
    }


def _read_file(path: "Union[str, os.PathLike[str]]") -> Any:
    name = os.fspath(path)
    try:
        with open(name, "r", encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise StoryboardError(f"{name}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise StoryboardError(f"{name}: not UTF-8 text: {error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise StoryboardError(f"{name}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None


def load_storyboard(source: StoryboardSource) -> generation_pb2.Storyboard:
    """Loads and validates a storyboard; returns the ``Storyboard`` message to send.

    ``source`` is a ``Storyboard`` message (validated and copied), a dict in the JSON form, or the
    path of a JSON file. Checks: at least one shot, each with at least one beat; ids of 1 to 64 of
    ``[A-Za-z0-9._-]``, not ``.`` or ``..``, unique among shots and among beats; non-empty prompts;
    known transitions.

    Raises:
        StoryboardError: (a ``ValueError``) naming the shot and beat, e.g.
            ``shot 2, beat 2.3: prompt is empty``.
    """
    if isinstance(source, generation_pb2.Storyboard):
        data: Any = storyboard_to_dict(source)
    elif isinstance(source, Mapping):
        data = source
    elif isinstance(source, (str, os.PathLike)):
        data = _read_file(source)
    else:
        raise TypeError(f"a storyboard is a Storyboard message, a dict or a path, not {type(source).__name__}")

    if not isinstance(data, Mapping):
        raise StoryboardError("storyboard: expected a JSON object with \"shots\"")
    shots = data.get("shots")
    if shots is None:
        raise StoryboardError("storyboard: \"shots\" is missing")
    if not isinstance(shots, list):
        raise StoryboardError("storyboard: \"shots\" must be a list")
    if not shots:
        raise StoryboardError("storyboard: has no shots")

    result = generation_pb2.Storyboard()
    shot_ids: Dict[str, int] = {}
    beat_ids: Dict[str, str] = {}
    for shot_index, shot in enumerate(shots, start=1):
        where = f"shot #{shot_index}"
        if not isinstance(shot, Mapping):
            raise StoryboardError(f"{where}: expected an object")
        problem = _id_problem(shot.get("id"))
        if problem:
            raise StoryboardError(f"{where}: {problem}")
        shot_id: str = shot["id"]
        where = f"shot {shot_id}"
        if shot_id in shot_ids:
            raise StoryboardError(f"{where}: duplicate shot id (shots #{shot_ids[shot_id]} and #{shot_index})")
        shot_ids[shot_id] = shot_index
        beats = shot.get("beats")
        if beats is None or (isinstance(beats, list) and not beats):
            raise StoryboardError(f"{where}: has no beats")
        if not isinstance(beats, list):
            raise StoryboardError(f"{where}: \"beats\" must be a list")
        shot_message = result.shots.add(id=shot_id)
        for beat_index, beat in enumerate(beats, start=1):
            beat_where = f"{where}, beat #{beat_index}"
            if not isinstance(beat, Mapping):
                raise StoryboardError(f"{beat_where}: expected an object")
            problem = _id_problem(beat.get("id"))
            if problem:
                raise StoryboardError(f"{beat_where}: {problem}")
            beat_id: str = beat["id"]
            beat_where = f"{where}, beat {beat_id}"
            if beat_id in beat_ids:
                raise StoryboardError(f"{beat_where}: duplicate beat id (also in shot {beat_ids[beat_id]})")
            beat_ids[beat_id] = shot_id
            prompt = beat.get("prompt")
            if prompt is not None and not isinstance(prompt, str):
                raise StoryboardError(f"{beat_where}: prompt must be a string")
            if not prompt or not prompt.strip():
                raise StoryboardError(f"{beat_where}: prompt is empty")
            transition = beat.get("transition", "cut")
            if transition is None:
                transition = "cut"
            if not isinstance(transition, str) or transition.lower() not in TRANSITIONS:
                raise StoryboardError(
                    f"{beat_where}: transition {json.dumps(transition, ensure_ascii=False)} is not one of "
                    + ", ".join(TRANSITIONS))
            shot_message.beats.add(id=beat_id, prompt=prompt, transition=TRANSITIONS[transition.lower()])
    return result

