from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from clinic import views
from clinic.health import healthz

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("clinic/switch/", views.clinic_switch, name="clinic-switch"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/clinics/new/", views.clinic_create, name="clinic-create"),
    path("settings/clinics/<int:clinic_id>/", views.clinic_edit, name="clinic-edit"),
    path("patients/", include("patients.urls")),
    path("calendar/", include("scheduling.urls")),
    path("packages/", include("packages.urls")),
    path("finance/", include("billing.urls")),
    path("reports/", include("reports.urls")),
    path("api/v1/", include("clinic.api.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "clinic.error_pages.not_found"
