"""Every API error as JSON: {"status": 401, "code": "authentication_failed", "detail": "Invalid API key."},
with "errors" (field → messages) for validation errors."""

from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's 500 handling (logged, never leaks details)
    if isinstance(exc, exceptions.ValidationError):
        body = {
            "status": response.status_code,
            "code": "invalid",
            "detail": _first_message(response.data) or "Invalid request.",
            "errors": response.data if isinstance(response.data, dict) else {"non_field_errors": response.data},
        }
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else str(response.data)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body = {"status": response.status_code, "code": code, "detail": str(detail)}
    response.data = body
    return response


def _first_message(data, path=""):
    """The first validation message, prefixed with where it is: "preferences[0].interest_id: ..."."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, int):
                where = f"{path}[{key}]"
            else:
                where = path if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
            found = _first_message(value, where)
            if found:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if isinstance(value, dict | list):
                found = _first_message(value, f"{path}[{index}]")
            else:
                found = f"{path}: {value}" if path else str(value)
            if found:
                return found
    elif data:
        return f"{path}: {data}" if path else str(data)
    return ""


def not_found(request, *args, **kwargs):
    """Unknown URLs under /api/ answer JSON, like everything else there."""
    return JsonResponse(
        {"status": 404, "code": "not_found", "detail": f"No API endpoint at {request.path}. See /api/docs/."},
        status=status.HTTP_404_NOT_FOUND,
    )
