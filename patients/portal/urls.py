from django.urls import path

from patients.portal import views

app_name = "portal"

# Mounted at /c/<token>/: the clinic's public address for its patients.
urlpatterns = [
    path("", views.start, name="start"),
    path("code/", views.code, name="code"),
    path("e/<str:link>/", views.enter, name="enter"),
    path("me/", views.home, name="home"),
    path("sign-out/", views.sign_out, name="sign-out"),
]
