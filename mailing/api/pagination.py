from django.conf import settings
from rest_framework.pagination import CursorPagination


class MemberCursorPagination(CursorPagination):
    """Stable pages by iMIS ID: a member who joins or leaves the group during a walk moves no one else."""

    ordering = "imis_id"
    page_size_query_param = "page_size"

    def __init__(self):
        self.page_size = settings.MAILING_API_PAGE_SIZE
        self.max_page_size = settings.MAILING_API_MAX_PAGE_SIZE
