"""SyncRun and MissingUdRow moved from `subscribers` to `sync` (subscribers 0007, sync 0001): the migrations
apply on a database that has rows, and lose none, nor the permissions staff groups hold on them."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from subscribers.models import Subscriber
from sync.models import MissingUdRow, SyncRun

pytestmark = pytest.mark.django_db

BEFORE = [("subscribers", "0006_missing_ud_row"), ("sync", None)]


def migrate(targets):
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationExecutor(connection).loader
    return loader.project_state([t for t in targets if t[1] is not None]).apps


def test_it_moves_the_models_without_losing_a_row_or_a_permission():
    old = migrate(BEFORE)
    OldSyncRun = old.get_model("subscribers", "SyncRun")
    OldMissing = old.get_model("subscribers", "MissingUdRow")
    member = old.get_model("subscribers", "Subscriber").objects.create(imis_id="100042", email="ada@example.org")
    now = timezone.now()
    run = OldSyncRun.objects.create(kind="pull", started_at=now, ok=True, counts={"members": 3})
    OldMissing.objects.create(subscriber=member, table_name="ud_EmailPrefs", seen_at=now)
    staff = Group.objects.create(name="sync watchers")
    staff.permissions.add(Permission.objects.get(content_type__app_label="subscribers", codename="view_syncrun"))

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert SyncRun.objects.get(pk=run.pk).counts == {"members": 3}
    missing = MissingUdRow.objects.get()
    assert missing.subscriber == Subscriber.objects.get(imis_id="100042") and missing.table_name == "ud_EmailPrefs"
    assert list(staff.permissions.values_list("content_type__app_label", "codename")) == [("sync", "view_syncrun")]
