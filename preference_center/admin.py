"""Celery beat's schedule in the admin: off the start page and the app list (five models of plumbing filled
half of it), still open by URL to staff with django_celery_beat's permissions (superusers), linked from the
sync dashboard, where the runs it starts are shown. Only interval schedules are kept: the project's
periodic tasks use nothing else (migrations: preference_center 0001, mailing 0002)."""

from django.contrib import admin
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

for model in (ClockedSchedule, CrontabSchedule, SolarSchedule, IntervalSchedule, PeriodicTask):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class _OffTheAppList:
    def has_module_permission(self, request):
        return False  # not on the start page nor in the app list: reached from the sync dashboard


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(_OffTheAppList, beat_admin.PeriodicTaskAdmin):
    pass


@admin.register(IntervalSchedule)
class IntervalScheduleAdmin(_OffTheAppList, beat_admin.IntervalScheduleAdmin):
    pass
