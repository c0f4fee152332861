"""The "Missing UD rows" report: per offered UD table, the members the last pull found without a row, a CSV of
them, and the statement iMIS staff run to create exactly those rows."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from preference_center.admin_base import ReadOnlyAdmin
from preference_center.imis import is_valid_identifier
from preference_center.imis.missing_rows import create_missing_ud_rows_sql
from subscribers.services.links import csv_chunks

from ..models import MissingUdRow
from ..selectors import missing_ud_row_counts, missing_ud_row_members

CSV_HEADER = ("imis_id", "full_name", "first_name", "last_name", "email")


@admin.register(MissingUdRow)
class MissingUdRowAdmin(ReadOnlyAdmin):
    list_display = ("table_name", "imis_id", "full_name", "email", "seen_at")
    list_filter = ("table_name",)
    search_fields = ("=subscriber__imis_id", "subscriber__email")
    search_help_text = "iMIS ID (exact) or email"
    list_select_related = ("subscriber",)
    change_list_template = "admin/sync/missingudrow/change_list.html"

    # Names and addresses of members: whoever may see the members, and nobody else.
    def has_view_permission(self, request, obj=None):
        user = request.user
        return user.has_perm("subscribers.view_subscriber") or user.has_perm("subscribers.change_subscriber")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description="ID in iMIS", ordering="subscriber__imis_id")
    def imis_id(self, obj):
        return obj.subscriber.imis_id

    @admin.display(description="name", ordering="subscriber__full_name")
    def full_name(self, obj):
        return obj.subscriber.full_name

    @admin.display(description="email", ordering="subscriber__email")
    def email(self, obj):
        return obj.subscriber.email

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "tables": missing_ud_row_counts()}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("table/<str:table>/csv/", view(self.csv_view), name="sync_missingudrow_csv"),
            path("table/<str:table>/sql/", view(self.sql_view), name="sync_missingudrow_sql"),
            *super().get_urls(),
        ]

    def _members(self, request, table):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not is_valid_identifier(table):
            raise Http404("No such UD table.")
        return missing_ud_row_members(table_name=table)

    def csv_view(self, request, table):
        members = self._members(request, table).values_list(*CSV_HEADER)
        response = StreamingHttpResponse(csv_chunks(members.iterator(), header=CSV_HEADER), content_type="text/csv")
        name = f"missing-{table}-rows-{timezone.now():%Y%m%d-%H%M}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response

    def sql_view(self, request, table):
        ids = list(self._members(request, table).values_list("imis_id", flat=True))
        statements = create_missing_ud_rows_sql(table, ids)
        if request.GET.get("download"):
            response = HttpResponse("\n".join(statements) + "\n", content_type="text/plain; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="create-missing-{table}-rows.sql"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": f"Create the missing {table} rows in iMIS",
            "opts": self.model._meta,
            "table": table,
            "count": len(ids),
            "statements": statements,
        }
        return TemplateResponse(request, "admin/sync/missingudrow/statement.html", context)
