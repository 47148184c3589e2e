"""load_storyboard: the JSON form, files, messages, and clear validation errors."""

from __future__ import annotations

import json

import pytest

from imagegen_client import StoryboardError, generation_pb2, load_storyboard, storyboard_to_dict

GOOD = {
    "shots": [
        {"id": "1", "beats": [
            {"id": "1.1", "prompt": "a lighthouse at dawn", "transition": "hard_cut"},
            {"id": "1.2", "prompt": "the beam sweeps", "transition": "continue"},
        ]},
        {"id": "2", "beats": [
            {"id": "2.1", "prompt": "gulls"},
            {"id": "2.2", "prompt": "waves", "transition": "cut"},
            {"id": "2.3", "prompt": "night falls", "transition": "HARD_CUT"},
        ]},
    ]
}


def test_dict() -> None:
    storyboard = load_storyboard(GOOD)
    assert isinstance(storyboard, generation_pb2.Storyboard)
    assert [s.id for s in storyboard.shots] == ["1", "2"]
    beats = storyboard.shots[0].beats
    assert beats[0].transition == generation_pb2.HARD_CUT
    assert beats[1].transition == generation_pb2.CONTINUE
    assert storyboard.shots[1].beats[0].transition == generation_pb2.CUT
    assert storyboard.shots[1].beats[2].transition == generation_pb2.HARD_CUT
    assert storyboard_to_dict(storyboard)["shots"][0]["beats"][0] == GOOD["shots"][0]["beats"][0]


def test_file_and_message(tmp_path) -> None:
    path = tmp_path / "storyboard.json"
    path.write_text(json.dumps(GOOD, ensure_ascii=False), encoding="utf-8")
    from_file = load_storyboard(path)
    assert from_file == load_storyboard(str(path)) == load_storyboard(GOOD)
    assert load_storyboard(from_file) == from_file


def bad(mutate):
    data = json.loads(json.dumps(GOOD))
    mutate(data)
    return data


@pytest.mark.parametrize("data, message", [
    ({}, 'storyboard: "shots" is missing'),
    ({"shots": []}, "storyboard: has no shots"),
    ({"shots": {}}, 'storyboard: "shots" must be a list'),
    (bad(lambda d: d["shots"][1]["beats"][2].update(prompt="")), "shot 2, beat 2.3: prompt is empty"),
    (bad(lambda d: d["shots"][1]["beats"][2].update(prompt="  \n")), "shot 2, beat 2.3: prompt is empty"),
    (bad(lambda d: d["shots"][1]["beats"][2].pop("prompt")), "shot 2, beat 2.3: prompt is empty"),
    (bad(lambda d: d["shots"][0]["beats"][0].update(prompt=3)), "shot 1, beat 1.1: prompt must be a string"),
    (bad(lambda d: d["shots"][0]["beats"][1].update(transition="fade")),
     'shot 1, beat 1.2: transition "fade" is not one of cut, hard_cut, continue'),
    (bad(lambda d: d["shots"][1].update(id="1")), "shot 1: duplicate shot id (shots #1 and #2)"),
    (bad(lambda d: d["shots"][1]["beats"][0].update(id="1.1")), "shot 2, beat 1.1: duplicate beat id (also in shot 1)"),
    (bad(lambda d: d["shots"][1].pop("id")), "shot #2: id is missing"),
    (bad(lambda d: d["shots"][1].update(id="..")), "shot #2: id '..' is invalid"),
    (bad(lambda d: d["shots"][1].update(id="a b")), "shot #2: id 'a b' is invalid"),
    (bad(lambda d: d["shots"][1].update(id="x" * 65)), "shot #2: id 'xxx"),
    (bad(lambda d: d["shots"][1].update(id=2)), "shot #2: id must be a string, got 2"),
    (bad(lambda d: d["shots"][1]["beats"][1].update(id="2/2")), "shot 2, beat #2: id '2/2' is invalid"),
    (bad(lambda d: d["shots"][1].update(beats=[])), "shot 2: has no beats"),
    (bad(lambda d: d["shots"][1].pop("beats")), "shot 2: has no beats"),
    (bad(lambda d: d["shots"].append("x")), "shot #3: expected an object"),
    (bad(lambda d: d["shots"][0]["beats"].append(None)), "shot 1, beat #3: expected an object"),
])
def test_invalid(data, message) -> None:
    with pytest.raises(StoryboardError) as info:
        load_storyboard(data)
    assert str(info.value).startswith(message), str(info.value)
    assert isinstance(info.value, ValueError)


def test_bad_files(tmp_path) -> None:
    with pytest.raises(StoryboardError, match="cannot read"):
        load_storyboard(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"shots": [\n  {"id": "1",}\n]}')
    with pytest.raises(StoryboardError, match=r"broken.json: invalid JSON at line 2, column"):
        load_storyboard(broken)
    listed = tmp_path / "list.json"
    listed.write_text("[1]")
    with pytest.raises(StoryboardError, match="storyboard: expected a JSON object"):
        load_storyboard(listed)
    with pytest.raises(TypeError):
        load_storyboard(42)  # type: ignore[arg-type]


def test_message_is_validated() -> None:
    storyboard = load_storyboard(GOOD)
    storyboard.shots[0].beats[0].prompt = ""
    with pytest.raises(StoryboardError, match="shot 1, beat 1.1: prompt is empty"):
        load_storyboard(storyboard)


def test_start_generation_validates_before_sending() -> None:
    from imagegen_client import Client

    client = Client.__new__(Client)  # no connection needed: validation fails first
    with pytest.raises(StoryboardError, match="shot 2, beat 2.3: prompt is empty"):
        Client.start_generation(client, "p", bad(lambda d: d["shots"][1]["beats"][2].update(prompt="")))
