"""The project's URLs: the composition root, which alone may import every
app (the import contract in pyproject.toml names it)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from billing import portal as billing_portal
from clinic import resource_views, team_views, views
from clinic.health import healthz
from packages.catalog import views as package_views
from packages.patient_packages import urls as patient_package_urls
from patients import views as patient_views
from patients.portal import urls as portal_urls
from reports import portal as reports_portal
from scheduling import package_urls as session_package_urls
from scheduling import portal as scheduling_portal
from scheduling import portal_api as scheduling_portal_api

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/password/reset/", team_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/access/", team_views.account_access, name="account-access"),
    path("accounts/access/log-out-elsewhere/", team_views.account_log_out_elsewhere, name="account-log-out-elsewhere"),
    path("accounts/access/tokens/<int:token_id>/revoke/", team_views.account_token_revoke, name="account-token-revoke"),
    path("accounts/invitation/<uidb64>/<token>/", team_views.invitation_accept, name="invitation-accept"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("clinic/switch/", views.clinic_switch, name="clinic-switch"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/clinics/new/", views.clinic_create, name="clinic-create"),
    path("settings/clinics/<int:clinic_id>/", views.clinic_edit, name="clinic-edit"),
    path("settings/team/", team_views.team_list, name="settings-team"),
    path("settings/team/invite/", team_views.member_invite, name="settings-team-invite"),
    path("settings/team/<int:user_id>/", team_views.member_detail, name="settings-team-member"),
    path("settings/team/<int:user_id>/deactivate/", team_views.member_deactivate, name="settings-team-deactivate"),
    path("settings/team/<int:user_id>/reactivate/", team_views.member_reactivate, name="settings-team-reactivate"),
    path("settings/team/<int:user_id>/log-out/", team_views.member_log_out, name="settings-team-log-out"),
    path(
        "settings/team/<int:user_id>/tokens/<int:token_id>/revoke/",
        team_views.member_token_revoke,
        name="settings-team-token-revoke",
    ),
    path("settings/team/<int:user_id>/resend/", team_views.member_resend_invitation, name="settings-team-resend"),
    path("settings/catalog/", package_views.catalog_settings, name="catalog-settings"),
    path("settings/professionals/", resource_views.professional_list, name="settings-professional-list"),
    path("settings/professionals/new/", resource_views.professional_create, name="settings-professional-create"),
    path("settings/professionals/hours-row/", resource_views.working_hours_row, name="settings-professional-hours-row"),
    path(
        "settings/professionals/<int:professional_id>/",
        resource_views.professional_edit,
        name="settings-professional-edit",
    ),
    path(
        "settings/professionals/<int:professional_id>/deactivate/",
        resource_views.professional_deactivate,
        name="settings-professional-deactivate",
    ),
    path(
        "settings/professionals/<int:professional_id>/reactivate/",
        resource_views.professional_reactivate,
        name="settings-professional-reactivate",
    ),
    path("settings/rooms/", resource_views.room_list, name="settings-room-list"),
    path("settings/rooms/new/", resource_views.room_create, name="settings-room-create"),
    path("settings/rooms/<int:room_id>/", resource_views.room_edit, name="settings-room-edit"),
    path("settings/rooms/<int:room_id>/deactivate/", resource_views.room_deactivate, name="settings-room-deactivate"),
    path("settings/rooms/<int:room_id>/reactivate/", resource_views.room_reactivate, name="settings-room-reactivate"),
    # A patient's packages: the pages of the sold packages and scheduling's
    # (linking with dates, deleting) in one namespace.
    path(
        "patients/<int:patient_id>/packages/",
        include((patient_package_urls.urlpatterns + session_package_urls.urlpatterns, "patient_packages")),
    ),
    path("patients/", include("patients.urls")),
    path("calendar/", include("scheduling.urls")),
    path("packages/", include("packages.catalog.urls")),
    path("finance/", include("billing.urls")),
    path("reports/", include("reports.urls")),
    path("messages/", include("patients.messaging.urls")),
    # The clinic's public address for its patients (X7, A6): their page, online
    # booking; each app adds its part to the one namespace.
    path(
        "c/<str:token>/",
        include(
            (
                portal_urls.urlpatterns
                + scheduling_portal.portal_urlpatterns
                + scheduling_portal_api.portal_urlpatterns
                + billing_portal.portal_urlpatterns
                + reports_portal.portal_urlpatterns,
                "portal",
            )
        ),
    ),
    # The public self-registration form behind a clinic's link (no login).
    path("register/<str:token>/", patient_views.self_register, name="self-register"),
    path("register/<str:token>/done/", patient_views.self_register_done, name="self-register-done"),
    path("api/v1/", include("clinic.api.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "clinic.error_pages.not_found"
handler500 = "clinic.error_pages.server_error"
