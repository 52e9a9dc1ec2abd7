from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("packages/", views.package_report, name="packages"),
    path("packages/<int:package_id>/session-card.pdf", views.session_card, name="session-card"),
]
