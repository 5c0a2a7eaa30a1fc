from . import _core  # noqa
