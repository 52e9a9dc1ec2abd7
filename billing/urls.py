from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.receivable_list, name="index"),
    path("pay/", views.payment_register, name="pay"),
    path("receivables/<int:receivable_id>/pix/", views.receivable_pix, name="pix"),
    path("payments/", views.payment_list, name="payments"),
    path("cash/", views.cash_summary, name="cash"),
    path("commissions/", views.commissions, name="commissions"),
    path("payments/<int:payment_id>/", views.payment_detail, name="payment"),
    path("payments/<int:payment_id>/receipt.pdf", views.payment_receipt, name="receipt"),
]
