from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from clinic.errors import ValidationFailed


class Pagination(PageNumberPagination):
    """Every list is paginated: ``?page=2&page_size=100`` (at most 200).

    A page or page size that is not a whole number in range is refused with
    400 and the field named; a page past the last answers 404 (as DRF does).
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        errors = {}
        page = request.query_params.get(self.page_query_param)
        if page is not None and page not in self.last_page_strings and not _whole_in_range(page, 1, None):
            errors[self.page_query_param] = [_("Enter a whole number from 1.")]
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and not _whole_in_range(size, 1, self.max_page_size):
            errors[self.page_size_query_param] = [
                _("Enter a whole number from 1 to %(maximum)d.") % {"maximum": self.max_page_size}
            ]
        if errors:
            raise ValidationFailed(fields=errors)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


def _whole_in_range(text: str, low: int, high: int | None) -> bool:
    if not text.isascii() or not text.isdigit():
        return False
    value = int(text)
    return value >= low and (high is None or value <= high)
