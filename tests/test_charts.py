"""The numbers behind the admin's charts: opt-ins and opt-outs per interest per day or week."""

from datetime import UTC, datetime, timedelta

import pytest

from mailing.selectors import opt_in_out_chart
from subscribers.models import PreferenceChange
from tests.factories import make_interests, make_subscriber

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # a Thursday


def change(subscriber, interest, new_value, when):
    made = PreferenceChange.objects.create(
        subscriber=subscriber, interest=interest, old_value=not new_value, new_value=new_value, source="form"
    )
    PreferenceChange.objects.filter(pk=made.pk).update(created_at=when)  # created_at is auto_now_add


def test_it_counts_opt_ins_and_opt_outs_per_interest_per_day_with_zeros_between():
    news, events, hidden = make_interests(count=3)
    hidden.visible = False
    hidden.save()
    ann, bob = make_subscriber(imis_id="1"), make_subscriber(imis_id="2")
    change(ann, news, True, NOW - timedelta(days=2))
    change(bob, news, True, NOW - timedelta(days=2, hours=3))
    change(ann, news, False, NOW)
    change(bob, events, False, NOW - timedelta(days=1))
    change(ann, hidden, True, NOW)  # not on the form: not charted
    change(bob, news, True, NOW - timedelta(days=30))  # before the window

    chart = opt_in_out_chart(period="day", days=3, now=NOW)

    assert [b.isoformat() for b in chart.buckets] == ["2026-11-24", "2026-11-25", "2026-11-26"]
    assert [(s.label, s.opt_ins, s.opt_outs) for s in chart.series] == [
        ("Monthly newsletter", [2, 0, 0], [0, 0, 1]),
        ("Events and conferences", [0, 0, 0], [0, 1, 0]),
    ]


def test_it_counts_per_week_starting_on_monday():
    [news] = make_interests(count=1)
    ann = make_subscriber(imis_id="1")
    change(ann, news, True, NOW - timedelta(days=3))  # Monday 23 November
    change(ann, news, False, NOW - timedelta(days=4))  # Sunday 22 November: the week before
    change(ann, news, True, NOW)

    chart = opt_in_out_chart(period="week", days=14, now=NOW)

    assert [b.isoformat() for b in chart.buckets] == ["2026-11-09", "2026-11-16", "2026-11-23"]
    assert (chart.series[0].opt_ins, chart.series[0].opt_outs) == ([0, 0, 2], [0, 1, 0])


def test_it_refuses_an_unknown_period():
    with pytest.raises(ValueError, match="period must be one of day, week"):
        opt_in_out_chart(period="month")
