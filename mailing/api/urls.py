from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import saved_groups, views
from .converters import IdConverter, ImisIdConverter
from .exceptions import not_found

register_converter(IdConverter, "mailing_id")
register_converter(ImisIdConverter, "imis_id")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("v1/interests/", views.InterestList.as_view(), name="api_interests"),
    path("v1/target-groups/", views.TargetGroupList.as_view(), name="api_target_groups"),
    path("v1/target-groups/combined/", views.CombinationDetail.as_view(), name="api_combination"),
    path("v1/target-groups/combined/members/", views.CombinationMembers.as_view(), name="api_combination_members"),
    path("v1/target-groups/combined/export/", views.CombinationExport.as_view(), name="api_combination_export"),
    path("v1/target-groups/<mailing_id:pk>/", views.TargetGroupDetail.as_view(), name="api_target_group"),
    path(
        "v1/target-groups/<mailing_id:pk>/members/", views.TargetGroupMembers.as_view(), name="api_target_group_members"
    ),
    path("v1/target-groups/<mailing_id:pk>/export/", views.TargetGroupExport.as_view(), name="api_target_group_export"),
    path("v1/saved-target-groups/", saved_groups.SavedGroupList.as_view(), name="api_saved_groups"),
    path("v1/saved-target-groups/<mailing_id:pk>/", saved_groups.SavedGroupDetail.as_view(), name="api_saved_group"),
    path(
        "v1/saved-target-groups/<mailing_id:pk>/members/",
        saved_groups.SavedGroupMembers.as_view(),
        name="api_saved_group_members",
    ),
    path(
        "v1/saved-target-groups/<mailing_id:pk>/export/",
        saved_groups.SavedGroupExport.as_view(),
        name="api_saved_group_export",
    ),
    path("v1/members/lookup/", views.MemberLookup.as_view(), name="api_member_lookup"),
    path("v1/members/<imis_id:imis_id>/", views.MemberDetail.as_view(), name="api_member"),
    path("v1/members/<imis_id:imis_id>/preferences/", views.MemberPreferences.as_view(), name="api_member_preferences"),
    re_path(r"^.*$", not_found),
]
