from django.apps import AppConfig


class MvsicConfig(AppConfig):
    name = "mvsic"
    verbose_name = "Music"
