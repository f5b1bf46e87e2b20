"""Mvsic's settings (DJANGO_SETTINGS_MODULE=mvsic.settings), one module per concern. Every
value comes from the environment, with a safe development default; `.env.example` lists
every variable."""

from mvsic.settings.accounts import *  # noqa: F403
from mvsic.settings.api import *  # noqa: F403
from mvsic.settings.broker import *  # noqa: F403
from mvsic.settings.environment import *  # noqa: F403
from mvsic.settings.events import *  # noqa: F403
from mvsic.settings.pipeline import *  # noqa: F403
from mvsic.settings.project import *  # noqa: F403
from mvsic.settings.schedule import *  # noqa: F403
from mvsic.settings.security import *  # noqa: F403
from mvsic.settings.uploads import *  # noqa: F403
