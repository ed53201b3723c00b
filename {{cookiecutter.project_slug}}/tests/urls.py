"""Every URL the tests call, looked up by route name: a moved prefix or path changes nothing else."""

from app.api.v1.router import API_V1_PREFIX
from app.main import create_app
from tests.settings import make_test_settings

# Built from the test settings, never from the developer's environment.
app = create_app(make_test_settings())


def url_for(name: str, **path_params: object) -> str:
    """The path of the route called `name` (its endpoint function's name)."""
    return str(app.url_path_for(name, **{key: str(value) for key, value in path_params.items()}))


API_PREFIX = API_V1_PREFIX
LIVE = url_for("live")
READY = url_for("ready")
REGISTER = url_for("register")
LOGIN = url_for("login")
REFRESH = url_for("refresh")
LOGOUT = url_for("logout")
LOGOUT_ALL = url_for("logout_all")
ME = url_for("read_me")
USERS = url_for("list_users")
