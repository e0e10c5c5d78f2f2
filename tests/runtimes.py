"""A `Runtime` as `setup()` would make it, without detecting anything (shared by the tests)."""

from course_utils import runtime
from course_utils.runtime import PROFILES, Runtime


def make_runtime(profile: str, online: bool, models: str | None = None) -> Runtime:
    """A Runtime as setup() would make it on this profile with the Hub reachable (`online`) or not."""
    models = models or runtime.choose_models(profile, online, environ={})[0]
    return Runtime(
        profile=profile,
        profile_reason="test",
        models=models,
        models_reason="test",
        hub_online=online,
        hub_reason="test",
        has_cuda=False,
        in_colab=False,
        in_ci=True,
        threads=1,
        seed=0,
        settings=PROFILES[profile],
    )
