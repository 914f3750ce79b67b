"""python-bioformats' OMERO login helpers, on JPype.

They log in with OMERO's Java client, which bfbridge does not load: put OMERO's jars
(blitz, common, ice, ...) on the class path with ``bfbridge.configure(jars=[...])``
beside Bio-Formats' to use them. Credentials are kept per process, as in
python-bioformats, and can be handed to worker processes with
``get_omero_credentials`` / ``use_omero_credentials``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jpype

from ... import errors, jvm
from ._errors import java_call
from ._reader_classes import IFormatReader

K_OMERO_SERVER = "omero_server"
K_OMERO_PORT = "omero_port"
K_OMERO_USER = "omero_user"
K_OMERO_SESSION_ID = "omero_session_id"
K_OMERO_CONFIG_FILE = "omero_config_file"
#: The cleartext password, only kept when one is given.
K_OMERO_PASSWORD = "omero_password"

_CLIENT_CLASSES = ("Glacier2.PermissionDeniedException", "loci.ome.io.OmeroReader", "omero.client")
_credentials: dict[str, Any] = {}
_login_hook: list[Callable[[], Any]] = []


class OmeroUnavailableError(errors.BioFormatsError, RuntimeError):
    """OMERO's Java client is not on the class path, or no way to log in was given."""


def has_omero_packages() -> bool:
    """Whether OMERO's Java client and Bio-Formats' OMERO reader are on the JVM's class path."""
    jvm.ensure_started()
    loader = jpype.JClass("java.lang.ClassLoader").getSystemClassLoader()
    try:
        for name in _CLIENT_CLASSES:
            loader.loadClass(name)
    except jpype.JException:
        return False
    return True


def _client_needed() -> None:
    if not has_omero_packages():
        raise OmeroUnavailableError(
            "OMERO's Java client (blitz, common, ice jars) is not on the class path; "
            "add its jars beside Bio-Formats' with bfbridge.configure(jars=[...]) before the JVM starts"
        )


def set_omero_credentials(omero_server: str, omero_port: int, omero_username: str, omero_password: str) -> str:
    """Log in to ``omero_server``; returns the session ID that later reads use."""
    _client_needed()
    with java_call(action="logging in to OMERO for"):
        client = jpype.JClass("omero.client")(omero_server, int(omero_port))
        client.createSession(omero_username, omero_password)
        session = str(client.getSessionId())
    _credentials.update(
        {
            K_OMERO_SERVER: omero_server,
            K_OMERO_PORT: omero_port,
            K_OMERO_USER: omero_username,
            K_OMERO_SESSION_ID: session,
        }
    )
    return session


def omero_login() -> str:
    """Log in with the config file, the stored password or the login hook, in that order."""
    config_file = _credentials.get(K_OMERO_CONFIG_FILE)
    if config_file:
        _client_needed()
        with java_call(action="logging in to OMERO for"):
            arguments = jpype.JArray(jpype.JString)([f"--Ice.Config={config_file}"])
            client = jpype.JClass("omero.client")(arguments)
            client.createSession()
            _credentials[K_OMERO_SESSION_ID] = str(client.getSessionId())
    elif all(
        _credentials.get(key) is not None for key in (K_OMERO_SERVER, K_OMERO_PORT, K_OMERO_USER, K_OMERO_PASSWORD)
    ):
        set_omero_credentials(
            *(_credentials[key] for key in (K_OMERO_SERVER, K_OMERO_PORT, K_OMERO_USER, K_OMERO_PASSWORD))
        )
    elif _login_hook:
        _login_hook[0]()
    else:
        raise OmeroUnavailableError("no OMERO credentials: call set_omero_credentials or set_omero_login_hook first")
    return _credentials.get(K_OMERO_SESSION_ID)


def get_omero_credentials() -> dict[str, Any]:
    """The credentials of the current session (logging in first if needed), to pass to another process."""
    if _credentials.get(K_OMERO_SESSION_ID) is None:
        omero_login()
    return {key: _credentials.get(key) for key in (K_OMERO_SERVER, K_OMERO_PORT, K_OMERO_USER, K_OMERO_SESSION_ID)}


def use_omero_credentials(credentials: dict[str, Any]) -> None:
    """Use credentials from :func:`get_omero_credentials` (for instance in a worker process)."""
    _credentials.clear()
    keys = (K_OMERO_SERVER, K_OMERO_PORT, K_OMERO_USER, K_OMERO_SESSION_ID, K_OMERO_CONFIG_FILE, K_OMERO_PASSWORD)
    _credentials.update({key: credentials.get(key) for key in keys})


def omero_logout() -> None:
    """Forget the current OMERO session."""
    _credentials[K_OMERO_SESSION_ID] = None


def set_omero_login_hook(fn: Callable[[], Any] | None) -> None:
    """Set the function called to log in when no credentials are stored (it calls set_omero_credentials)."""
    _login_hook[:] = [fn] if fn is not None else []


def get_omero_reader() -> Any:
    """Bio-Formats' ``loci.ome.io.OmeroReader`` logged in with the current session, as an ``IFormatReader``."""
    _client_needed()
    if _credentials.get(K_OMERO_SESSION_ID) is None:
        omero_login()
    with java_call(action="connecting to OMERO for"):
        reader = jpype.JClass("loci.ome.io.OmeroReader")()
        reader.setServer(_credentials[K_OMERO_SERVER])
        reader.setPort(int(_credentials[K_OMERO_PORT]))
        reader.setUsername(_credentials[K_OMERO_USER])
        reader.setSessionID(_credentials[K_OMERO_SESSION_ID])
    return IFormatReader.wrap(reader)
