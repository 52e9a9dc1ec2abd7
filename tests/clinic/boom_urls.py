"""A URL configuration with views that fail, for the 500 tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

handler500 = "clinic.error_pages.server_error"


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("api/v1/boom/", boom), path("boom/", boom)]
