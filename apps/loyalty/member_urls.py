"""The member centre for the salon's clients, mounted under /member/ (namespace "member")."""

from django.urls import path

from apps.loyalty import member_views as views

app_name = "member"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.logout, name="logout"),
    path("coupons/", views.coupons, name="coupons"),
    path("course-cards/", views.course_cards, name="course_cards"),
    path("course-cards/<int:pk>/", views.course_card, name="course_card"),
    path("history/", views.history, name="history"),
]
