"""The root of the test suite: the shared fixtures are a plugin (tests/fixtures.py), the plain
helpers a module (tests/support.py). Nothing here is meant to be imported by a test module."""
from hypothesis import settings as hypothesis_settings

pytest_plugins = ["tests.fixtures"]

# Property tests must not fail because a busy machine (CI, two cores) ran an example slowly.
hypothesis_settings.register_profile("assembly", deadline=None)
hypothesis_settings.load_profile("assembly")
