from django.urls import path

from apps.edge import views

app_name = "edge"

urlpatterns = [
    path("print-jobs/", views.print_job_list, name="print_jobs"),
    path("print-jobs/test/", views.print_job_test, name="print_job_test"),
    path("print-jobs/<int:pk>/reprint/", views.print_job_reprint, name="print_job_reprint"),
]
