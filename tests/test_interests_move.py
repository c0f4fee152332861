"""interests_move: staff reorder interests by moving them, never by typing every number."""

import pytest

from interests.models import RemoteInterest
from interests.services import interests_move, interests_regroup, interests_reorder
from tests.factories import make_interest

pytestmark = pytest.mark.django_db


@pytest.fixture
def abcde():
    return {
        name: make_interest(field_name=name, position=(i + 1) * 10, visible=False) for i, name in enumerate("ABCDE")
    }


def order():
    return "".join(RemoteInterest.objects.values_list("field_name", flat=True))


def ids(interests, names):
    return [interests[n].pk for n in names]


@pytest.mark.parametrize(
    "move, selected, expected",
    [
        ("top", "D", "DABCE"),
        ("top", "BD", "BDACE"),
        ("bottom", "B", "ACDEB"),
        ("up", "C", "ACBDE"),
        ("up", "A", "ABCDE"),
        ("up", "ABD", "ABDCE"),
        ("up", "CE", "ACBED"),
        ("down", "C", "ABDCE"),
        ("down", "E", "ABCDE"),
        ("down", "BC", "ADBCE"),
    ],
)
def test_it_moves_the_selected_interests(abcde, move, selected, expected):
    interests_move(interest_ids=ids(abcde, selected), move=move)
    assert order() == expected


def test_it_numbers_positions_from_one_and_returns_only_what_moved(abcde):
    changed = interests_move(interest_ids=ids(abcde, "C"), move="up")

    assert list(RemoteInterest.objects.values_list("position", flat=True)) == [1, 2, 3, 4, 5]
    assert {i.field_name for i in changed} == set("ABCDE")  # every position was renumbered from 10s
    assert {i.field_name for i in interests_move(interest_ids=ids(abcde, "C"), move="down")} == {"B", "C"}


def test_it_refuses_an_unknown_move_and_changes_nothing(abcde):
    with pytest.raises(ValueError, match="unknown move"):
        interests_move(interest_ids=ids(abcde, "C"), move="sideways")
    assert list(RemoteInterest.objects.values_list("position", flat=True)) == [10, 20, 30, 40, 50]


def test_it_reorders_the_given_interests_within_the_places_they_hold(abcde):
    # A filtered page showed B, D, E; staff dragged E to its top. A and C keep their places.
    interests_reorder(interest_ids=ids(abcde, "EBD"))
    assert order() == "AECBD"
    assert list(RemoteInterest.objects.values_list("position", flat=True)) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("bad", ["BB", "B?"])
def test_it_refuses_a_bad_order_and_changes_nothing(abcde, bad):
    unknown = max(i.pk for i in abcde.values()) + 1
    with pytest.raises(ValueError):
        interests_reorder(interest_ids=[abcde[n].pk if n in abcde else unknown for n in bad])
    assert order() == "ABCDE"
    assert list(RemoteInterest.objects.values_list("position", flat=True)) == [10, 20, 30, 40, 50]


@pytest.fixture
def grouped():
    """The form reads News (A, C), then Advocacy (B, D): each group where its first interest is."""
    return {
        name: make_interest(field_name=name, visible=False, position=i, group=group)
        for i, (name, group) in enumerate([("A", "News"), ("B", "Advocacy"), ("C", "News"), ("D", "Advocacy")], 1)
    }


def test_it_numbers_interests_as_the_form_reads_them(grouped):
    assert interests_regroup()
    assert order() == "ACBD"
    assert list(RemoteInterest.objects.values_list("position", flat=True)) == [1, 2, 3, 4]


def test_it_moves_interests_within_their_group(grouped):
    interests_move(interest_ids=ids(grouped, "D"), move="top")
    assert order() == "ACDB"
    interests_move(interest_ids=ids(grouped, "D"), move="up")  # already first of its group
    assert order() == "ACDB"


def test_a_drag_above_every_group_takes_the_group_to_the_top(grouped):
    interests_regroup()
    interests_reorder(interest_ids=ids(grouped, "DAC"))  # D dragged above A and C
    assert order() == "DBAC"
