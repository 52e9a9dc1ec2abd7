from django.urls import path

from packages.catalog import views

app_name = "packages"

urlpatterns = [
    path("", views.template_list, name="index"),
    path("templates/new/", views.template_create, name="template-create"),
    path("templates/export.xlsx", views.template_export, name="template-export"),
    path("templates/preview/", views.template_preview, name="template-preview"),
    path("templates/<int:template_id>/", views.template_detail, name="template-detail"),
    path("templates/<int:template_id>/edit/", views.template_edit, name="template-edit"),
    path("templates/<int:template_id>/own-items/", views.template_own_items, name="template-own-items"),
    path("templates/<int:template_id>/active/", views.template_set_active, name="template-set-active"),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template-delete"),
    path("services/", views.service_list, name="services"),
    path("services/new/", views.service_create, name="service-create"),
    path("services/<int:service_id>/", views.service_edit, name="service-edit"),
    path("services/<int:service_id>/active/", views.service_set_active, name="service-set-active"),
    path("services/<int:service_id>/delete/", views.service_delete, name="service-delete"),
]
