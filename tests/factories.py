"""The tests' one place to make rows: one function per entity, keyword-only, with defaults that make a valid
row (a member who can be mailed, an interest on the form). A test names what its assertions depend on."""

import itertools

from django.contrib.auth.models import Permission, User
from django.test import Client

from interests.models import RemoteInterest
from preference_center.imis.sandbox import member_id
from subscribers.models import Preference, Subscriber

# The sandbox's checkbox fields (preference_center.imis.sandbox), as discovery and staff would set them up.
SANDBOX_INTERESTS = [
    ("ud_EmailPrefs", "NEWSLETTER", "Monthly newsletter", "News from the association, once a month", "News"),
    ("ud_EmailPrefs", "EVENTS", "Events and conferences", "Invitations to meetings and the annual conference", "News"),
    ("ud_EmailPrefs", "ADVOCACY_ALERT", "Advocacy alerts", "When legislation affects the profession", "Advocacy"),
    ("UD_Topics", "Policy_Updates", "Policy updates", "", "Advocacy"),
    ("UD_Topics", "Research_Digest", "Research digest", "A quarterly digest of new research", "Learning"),
    ("UD_Topics", "CE_Credits", "Continuing education", "Courses that earn CE credits", "Learning"),
    ("UD_Topics", "Volunteering", "Volunteer opportunities", "", ""),
]
_numbers = itertools.count(1)
STAFF_PASSWORD = "a long pass phrase"


def _member_fields(imis_id):
    return {
        "email": f"m{imis_id}@example.org",
        "first_name": "Jane",
        "last_name": "Doe",
        "full_name": "Jane Doe",
        "status": "A",
    }


def make_subscriber(*, imis_id=None, on=(), off=(), **fields):
    """A member (by default Jane Doe, status A, an address of their own, a new iMIS ID) with Preference rows:
    the `on` interests ticked, the `off` ones unticked."""
    imis_id = imis_id or f"9{next(_numbers):05d}"
    subscriber = Subscriber.objects.create(imis_id=imis_id, **{**_member_fields(imis_id), **fields})
    Preference.objects.bulk_create(
        [Preference(subscriber=subscriber, interest=i, value=True) for i in on]
        + [Preference(subscriber=subscriber, interest=i, value=False) for i in off]
    )
    return subscriber


def make_subscribers(*, count, interest, start=0, batch_size=5000):
    """`count` members as make_subscriber makes them (iMIS IDs from `start`, 8 digits) with `interest` on,
    inserted in bulk: fast enough for 100,000."""
    for first in range(start, start + count, batch_size):
        imis_ids = [f"{n:08d}" for n in range(first, min(first + batch_size, start + count))]
        subscribers = Subscriber.objects.bulk_create(
            [Subscriber(imis_id=imis_id, **_member_fields(imis_id)) for imis_id in imis_ids], batch_size=batch_size
        )
        Preference.objects.bulk_create(
            [Preference(subscriber=s, interest=interest, value=True) for s in subscribers], batch_size=batch_size
        )


def sandbox_subscriber(number):
    """The member of the iMIS sandbox numbered `number` (preference_center.imis.sandbox.member_id), as ours:
    made by make_subscriber the first time it is asked for, the same row afterwards."""
    imis_id = member_id(number)
    return Subscriber.objects.filter(imis_id=imis_id).first() or make_subscriber(
        imis_id=imis_id, email=f"member{number}@example.org"
    )


def make_interest(*, field_name="NEWSLETTER", table_name="ud_EmailPrefs", prompt=None, visible=True, **fields):
    """A checkbox field of iMIS as discovery finds it (labelled with its prompt, by default the field name),
    shown on the form unless `visible=False`."""
    prompt = field_name.title() if prompt is None else prompt
    fields.setdefault("label", prompt)
    return RemoteInterest.objects.create(
        table_name=table_name, field_name=field_name, prompt=prompt, visible=visible, **fields
    )


def make_interests(*, count=3, visible=True, start=0):
    """`count` interests: the sandbox's (from the `start`-th), then made-up ones (not in iMIS)."""
    made = []
    for position in range(start, start + count):
        if position < len(SANDBOX_INTERESTS):
            table, field, prompt, description, group = SANDBOX_INTERESTS[position]
        else:
            table, field, prompt = "ud_Extra", f"TOPIC_{position:02d}", f"Topic {position}"
            description, group = f"About topic {position}", f"Group {position // 5}"
        made.append(
            make_interest(
                table_name=table,
                field_name=field,
                prompt=prompt,
                description=description,
                group=group,
                position=(position + 1) * 10,
                visible=visible,
            )
        )
    return made


def make_preference(*, subscriber, interest, value=True, imis_value=None):
    """A member's choice of an interest; `imis_value`: what iMIS held at the last pull (None: never seen)."""
    return Preference.objects.create(subscriber=subscriber, interest=interest, value=value, imis_value=imis_value)


def staff_user(*permissions, username=None, superuser=False, **fields):
    """A staff user (by default a new user name) who signs in with STAFF_PASSWORD or client.force_login,
    with exactly these permissions: codenames, "app_label.codename" where a codename is not enough;
    `superuser=True` for every permission. One that names no permission, or several, is a mistake in the
    test: it fails here rather than leave the user with fewer rights than the test thinks."""
    username = username or f"staff{next(_numbers)}"
    make = User.objects.create_superuser if superuser else User.objects.create_user
    user = make(username, password=STAFF_PASSWORD, is_staff=True, **fields)
    user.user_permissions.set([_permission(name) for name in permissions])
    return user


def signed_in(user):
    """A test client with `user` signed in (without the login form)."""
    client = Client()
    client.force_login(user)
    return client


def _permission(name):
    app_label, _, codename = name.rpartition(".")
    found = Permission.objects.filter(codename=codename)
    if app_label:
        found = found.filter(content_type__app_label=app_label)
    found = list(found)
    if len(found) != 1:
        raise ValueError(f"{name!r} names {len(found)} permissions, not one")
    return found[0]
