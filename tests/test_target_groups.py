"""Target groups: who a mailing to an interest, or to a combination of interests, reaches."""

import pytest

from mailing import selectors
from tests.factories import make_interests, make_subscriber

pytestmark = pytest.mark.django_db


def members_of(**ids):
    group = selectors.target_group_build(**ids)
    return list(selectors.target_group_members(group=group).values_list("imis_id", flat=True))


def test_it_counts_only_mailable_members_with_the_interest_on():
    news, events, _ = make_interests(count=3)
    make_subscriber(imis_id="1", on=[news])
    make_subscriber(imis_id="2", on=[news], active=False)  # left the roster
    make_subscriber(imis_id="3", on=[news], email="")  # no address
    make_subscriber(imis_id="4", on=[news], exclude_mail=True)  # iMIS says: no mail
    make_subscriber(imis_id="5", off=[news])  # unticked
    make_subscriber(imis_id="6", on=[events])  # another interest
    make_subscriber(imis_id="7", on=[news, events])

    assert members_of(any_of=[news.pk]) == ["1", "7"]
    sizes = {i.pk: i.size for i in selectors.target_groups_with_sizes()}
    assert sizes[news.pk] == 2 and sizes[events.pk] == 2


def test_it_makes_a_group_of_each_interest_on_the_form_only():
    shown, hidden, vanished = make_interests(count=3)
    hidden.visible = False
    hidden.save()
    vanished.present_in_imis = False
    vanished.save()

    assert [i.pk for i in selectors.target_groups_with_sizes()] == [shown.pk]
    with pytest.raises(selectors.InvalidTargetGroup, match=f"Not an interest on the form: {hidden.pk}"):
        selectors.target_group_build(any_of=[hidden.pk])
    with pytest.raises(selectors.InvalidTargetGroup, match=f"Not an interest on the form: {vanished.pk}"):
        selectors.target_group_build(any_of=[shown.pk], none_of=[vanished.pk])


def test_it_combines_any_of_all_of_and_minus():
    a, b, c, d = make_interests(count=4)
    make_subscriber(imis_id="1", on=[a])
    make_subscriber(imis_id="2", on=[b])
    make_subscriber(imis_id="3", on=[a, b])
    make_subscriber(imis_id="4", on=[a, b, c])
    make_subscriber(imis_id="5", on=[a, c, d])
    make_subscriber(imis_id="6", on=[c])

    assert members_of(any_of=[a.pk, b.pk]) == ["1", "2", "3", "4", "5"]
    assert members_of(all_of=[a.pk, b.pk]) == ["3", "4"]
    assert members_of(any_of=[a.pk, b.pk], none_of=[c.pk]) == ["1", "2", "3"]
    assert members_of(any_of=[c.pk, d.pk], all_of=[a.pk]) == ["4", "5"]
    assert members_of(all_of=[a.pk], none_of=[b.pk, d.pk]) == ["1"]


def test_it_reads_a_combination_in_one_query(django_assert_num_queries):
    interests = make_interests(count=6)
    for n in range(5):
        make_subscriber(imis_id=str(n), on=interests[n : n + 3])
    group = selectors.target_group_build(
        any_of=[i.pk for i in interests[:2]], all_of=[i.pk for i in interests[2:4]], none_of=[interests[5].pk]
    )

    with django_assert_num_queries(1):
        found = list(selectors.target_group_members(group=group))

    assert [s.imis_id for s in found] == ["1"]


def test_it_sizes_every_group_in_one_query(django_assert_num_queries):
    interests = make_interests(count=5)
    make_subscriber(imis_id="1", on=interests)

    with django_assert_num_queries(1):
        sizes = [i.size for i in selectors.target_groups_with_sizes()]

    assert sizes == [1] * 5


def test_it_refuses_a_combination_that_wants_nothing_or_wants_and_excludes_one_interest():
    a, b = make_interests(count=2)

    with pytest.raises(selectors.InvalidTargetGroup, match="at least one interest"):
        selectors.target_group_build(none_of=[a.pk])
    with pytest.raises(selectors.InvalidTargetGroup, match=f"{b.pk} is both wanted and excluded"):
        selectors.target_group_build(any_of=[a.pk, b.pk], none_of=[b.pk])


def test_it_describes_a_combination_with_the_labels_members_see():
    a, b, c = make_interests(count=3)

    group = selectors.target_group_build(any_of=[a.pk, b.pk], none_of=[c.pk])

    assert group.describe() == "any of (Monthly newsletter, Events and conferences), minus (Advocacy alerts)"
