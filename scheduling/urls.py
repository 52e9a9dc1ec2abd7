from django.urls import path

from scheduling import patient_views, subscription_views, views

app_name = "scheduling"

urlpatterns = [
    path("", views.calendar, name="index"),
    path("feed/", views.feed, name="feed"),
    path("resources/", views.resources, name="resources"),
    path("book/", views.appointment_new, name="book"),
    path("book/packages/", views.booking_packages, name="budget"),
    path("book/patients/", views.patient_search, name="patient-search"),
    path("book/patients/new/", patient_views.patient_quick_create, name="patient-new"),
    path("appointments/<int:appointment_id>/", views.appointment_edit, name="edit"),
    path("appointments/<int:appointment_id>/status/", views.appointment_status, name="status"),
    path("appointments/<int:appointment_id>/move/", views.appointment_move, name="move"),
    path("appointments/<int:appointment_id>/delete/", views.appointment_delete, name="delete"),
    path("appointments/<int:appointment_id>/notes/", views.evolution_notes, name="notes"),
    path("subscriptions/", subscription_views.subscriptions, name="subscriptions"),
    path("feed/<str:token>.ics", subscription_views.ical_feed, name="ical"),
    path("statuses/", views.status_list, name="statuses"),
    path("statuses/new/", views.status_edit, name="status-create"),
    path("statuses/<int:status_id>/", views.status_edit, name="status-edit"),
]
