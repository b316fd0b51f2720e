"""go-plugin's plugin side, for gRPC plugins, in Python.

What hashicorp/go-plugin's Serve does for a Go plugin (server.go), done here
for the int8cal host (core/pluginhost), which starts plugins with AutoMTLS on
a Unix socket in a directory it chooses:

* the magic cookie check (a plugin started by hand says so and exits 1);
* protocol version negotiation against PLUGIN_PROTOCOL_VERSIONS;
* a gRPC server on a Unix socket in PLUGIN_UNIX_SOCKET_DIR, with TLS when
  the host asks for AutoMTLS (PLUGIN_CLIENT_CERT set): a fresh self-signed
  certificate for "localhost" (see _x509), which the host verifies, and
  the host's certificate verified in return;
* the handshake line on stdout:
  ``1|<protocol version>|unix|<socket path>|grpc|<base64 DER certificate>``;
* go-plugin's own services, so the host logs no warnings: grpc.health.v1
  (SERVING for "plugin"), plugin.GRPCController/Shutdown (the host's
  request to exit), plugin.GRPCStdio/StreamStdio and
  plugin.GRPCBroker/StartStream (held open, carrying nothing: the plugin's
  log goes to stderr, and the int8cal protocols use no brokered
  connections);
* exiting promptly after Shutdown, and when the host is gone.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import threading
import traceback
from concurrent import futures
from dataclasses import dataclass
from typing import Callable, Iterator, NoReturn

import grpc

from . import _log, _x509

# go-plugin's core protocol version, the first field of the handshake line.
CORE_PROTOCOL_VERSION = 1

# The int8cal protocols bound one message at 64 MiB on both sides
# (calibratorrpc.MaxMessageSize, batchstreamrpc.MaxMessageSize).
MAX_MESSAGE_SIZE = 64 << 20

COOKIE_KEY = "INT8CAL_PLUGIN_COOKIE"


# How long serving stops after Shutdown waits for calls still under way
# (the host closes its connection right after Shutdown's answer).
_STOP_GRACE = 0.5

# How often the parent watch looks whether the host is still there.
_PARENT_POLL = 0.1


@dataclass(frozen=True)
class Protocol:
    """One int8cal plugin protocol, as the host's handshake names it."""

    kind: str
    """"calibrator" or "batchstream": the plugin program's name is
    int8cal-<kind>-<name>."""
    cookie: str
    """The value of INT8CAL_PLUGIN_COOKIE the host sets for this kind."""
    version: int
    """The go-plugin protocol version served."""
    package: str
    """The protobuf package, for messages."""
    title: str
    """What int8cal calls this kind of plugin: "calibrator", "data set"."""


class HandshakeError(Exception):
    """The environment the plugin was started in does not allow serving."""


def negotiate(proto: Protocol, env: dict[str, str]) -> int:
    """Returns the protocol version to serve, checked against the versions
    the host offers in PLUGIN_PROTOCOL_VERSIONS (comma-separated; a host
    that sends none gets ours, as go-plugin's fallback does)."""
    offered = env.get("PLUGIN_PROTOCOL_VERSIONS", "")
    if not offered:
        return proto.version
    versions = []
    for part in offered.split(","):
        try:
            versions.append(int(part))
        except ValueError:
            raise HandshakeError(f"PLUGIN_PROTOCOL_VERSIONS={offered!r} is not a list of integers") from None
    if proto.version not in versions:
        raise HandshakeError(
            f"the host offers protocol versions {offered} and this plugin serves {proto.version} "
            f"({proto.package}); use an int8cal and an int8cal_plugin of the same release"
        )
    return proto.version


def handshake_line(version: int, socket_path: str, cert: _x509.Certificate | None) -> str:
    """The line go-plugin's client reads from the plugin's stdout."""
    return "|".join(
        [str(CORE_PROTOCOL_VERSION), str(version), "unix", socket_path, "grpc", cert.handshake_text() if cert else ""]
    )


def parse_handshake(line: str) -> dict[str, str]:
    """Splits a handshake line into its named fields (for the tests)."""
    parts = line.rstrip("\n").split("|")
    if len(parts) < 6:
        raise ValueError(f"a handshake line has 6 fields, {line!r} has {len(parts)}")
    keys = ["core", "version", "network", "address", "protocol", "cert"]
    return dict(zip(keys, parts[:6]))


def socket_path(env: dict[str, str]) -> str:
    """A fresh socket path in PLUGIN_UNIX_SOCKET_DIR (the host's private
    directory), else in the temporary directory, as go-plugin picks it."""
    directory = env.get("PLUGIN_UNIX_SOCKET_DIR") or os.environ.get("TMPDIR", "/tmp")
    return os.path.join(directory, "plugin" + secrets.token_hex(5))


def _not_started_by_host(proto: Protocol, name: str) -> NoReturn:
    sys.stderr.write(
        f"{os.path.basename(sys.argv[0]) or name} is an int8cal {proto.title} plugin ({name}), "
        "not a program to run by hand: the int8cal host starts it.\n"
        f"Put it (named int8cal-{proto.kind}-{name}) in a directory and pass that to int8cal "
        "with --plugin-dir, or list the directory in $INT8CAL_PLUGIN_PATH.\n"
    )
    sys.exit(1)


# Tiny messages of go-plugin's services, encoded by hand: registering
# grpc.health.v1's and go-plugin's .proto files would add a second copy of
# them to the protobuf pool where a program imports its own.


def _health_service(request: bytes) -> str:
    """The service field (1, a string) of a grpc.health.v1
    HealthCheckRequest; empty when absent."""
    i = 0
    while i < len(request):
        key = request[i]
        i += 1
        length, i = _varint(request, i)
        if key == 0x0A:
            return request[i : i + length].decode("utf-8", "replace")
        if key & 7 != 2:
            break  # no other field exists; stop at anything unexpected
        i += length
    return ""


def _varint(b: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while i < len(b):
        c = b[i]
        i += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            break
    return value, i


_SERVING = b"\x08\x01"  # HealthCheckResponse{status: SERVING}
_EMPTY = b""


class _PluginServices:
    """go-plugin's services around the int8cal one."""

    def __init__(self, done: threading.Event) -> None:
        self.done = done

    def check(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        service = _health_service(request)
        if service not in ("", "plugin"):
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {service!r}")
        return _SERVING

    def shutdown(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        self.done.set()
        return _EMPTY

    def stream_stdio(self, request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        # The host syncs nothing from it (its SyncStdout/SyncStderr are
        # discarded); the stream stays open until the host hangs up, which
        # is what go-plugin's client expects of a plugin that has it.
        ended = threading.Event()
        if context.add_callback(ended.set):
            ended.wait()
        return iter(())

    def start_stream(self, requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
        # The broker carries the addresses of extra connections; the int8cal
        # protocols open none, so the stream is read to its end unanswered.
        try:
            for _ in requests:
                pass
        except grpc.RpcError:  # the host hung up
            pass
        return iter(())

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        return [
            grpc.method_handlers_generic_handler(
                "grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(self.check)}
            ),
            grpc.method_handlers_generic_handler(
                "plugin.GRPCController", {"Shutdown": grpc.unary_unary_rpc_method_handler(self.shutdown)}
            ),
            grpc.method_handlers_generic_handler(
                "plugin.GRPCStdio", {"StreamStdio": grpc.unary_stream_rpc_method_handler(self.stream_stdio)}
            ),
            grpc.method_handlers_generic_handler(
                "plugin.GRPCBroker", {"StartStream": grpc.stream_stream_rpc_method_handler(self.start_stream)}
            ),
        ]


def _watch_parent(parent: int, done: threading.Event) -> None:
    """Ends serving when the host is gone: the plugin is then re-parented
    (to init or a subreaper). The host also asks the kernel to kill its
    plugins when it dies (Pdeathsig), which covers a plugin started
    directly; this covers one started through a wrapper that did not exec."""
    while not done.wait(_PARENT_POLL):
        if os.getppid() != parent:
            done.set()


def serve(proto: Protocol, name: str, register: Callable[[grpc.Server], None], workers: int = 8) -> NoReturn:
    """Serves one int8cal plugin until the host shuts it down or goes away,
    then exits the process. register adds the int8cal service to the
    server."""
    parent = os.getppid()  # the host, before anything can take long
    env = dict(os.environ)
    log = _log.get_logger(name)
    _log.install_root()
    if env.get(COOKIE_KEY) != proto.cookie:
        _not_started_by_host(proto, name)
    try:
        version = negotiate(proto, env)
    except HandshakeError as e:
        log.error(f"{name}: {e}")
        sys.exit(1)
    # The host's terminal may deliver ^C to the whole foreground group; the
    # host then shuts its plugins down itself, as go-plugin's Serve expects.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    done = threading.Event()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name),
        handlers=_PluginServices(done).handlers(),
        options=[("grpc.max_send_message_length", MAX_MESSAGE_SIZE), ("grpc.max_receive_message_length", MAX_MESSAGE_SIZE)],
    )
    register(server)
    path = socket_path(env)
    cert: _x509.Certificate | None = None
    client_cert = env.get("PLUGIN_CLIENT_CERT", "")
    address = "unix:" + path
    if client_cert:
        # Mutual TLS: the host verifies this certificate, which the
        # handshake line carries, and this server verifies the host's
        # (PLUGIN_CLIENT_CERT, its root). The int8cal host makes its
        # certificate with a P-256 key (core/pluginhost/tls.go): go-plugin's
        # own AutoMTLS uses P-521, whose signatures grpcio's BoringSSL does
        # not accept, so a stock go-plugin host cannot connect here.
        cert = _x509.generate()
        credentials = grpc.ssl_server_credentials(
            [(cert.key_pem, cert.cert_pem)], root_certificates=client_cert.encode(), require_client_auth=True
        )
        bound = server.add_secure_port(address, credentials)
    else:
        # A host without AutoMTLS (go-plugin's default): plaintext, and an
        # empty certificate field on the handshake line.
        bound = server.add_insecure_port(address)
    if not bound:
        _fail(log, f"{name}: cannot listen on the Unix socket {path}")
    server.start()
    group = env.get("PLUGIN_UNIX_SOCKET_GROUP")
    try:
        if group:
            _share_with_group(path, group)
        else:
            os.chmod(path, 0o600)
    except (HandshakeError, OSError) as e:
        _fail(log, f"{name}: the socket {path}: {e}")

    sys.stdout.write(handshake_line(version, path, cert) + "\n")
    sys.stdout.flush()
    # From here on stdout is no longer read; a stray print() of the plugin
    # reaches the host's log (at DEBUG) instead.
    sys.stdout = sys.stderr

    threading.Thread(target=_watch_parent, args=(parent, done), daemon=True, name="parent-watch").start()
    done.wait()
    server.stop(_STOP_GRACE).wait()
    try:
        os.unlink(path)
    except OSError:
        pass
    sys.stderr.flush()
    # Not sys.exit: a worker thread still inside user code would keep the
    # interpreter from ending.
    os._exit(0)


def abort_bug(log: logging.Logger, context: grpc.ServicerContext, name: str, what: str, e: Exception) -> NoReturn:
    """Ends a call whose plugin code raised an unexpected exception (a bug,
    not a refusal): gRPC UNKNOWN with the exception's type, message and
    line for the user, the traceback in the host's log."""
    log.error(f"{what} failed", exc_info=e)
    where = traceback.extract_tb(e.__traceback__)[-1]
    context.abort(
        grpc.StatusCode.UNKNOWN,
        f"{name}: {what}: {type(e).__name__}: {e} (at {where.filename}:{where.lineno}; traceback in the log)",
    )
    raise AssertionError("not reached: abort raises")


def _fail(log: logging.Logger, message: str) -> NoReturn:
    """Logs why the plugin cannot serve and exits with status 1: os._exit,
    since gRPC's threads may already run."""
    log.error(message)
    sys.stderr.flush()
    os._exit(1)


def _share_with_group(path: str, group: str) -> None:
    """Gives the socket to PLUGIN_UNIX_SOCKET_GROUP (read and write), as
    go-plugin does when a host asks for it."""
    import grp

    try:
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        os.chown(path, -1, gid)
        os.chmod(path, 0o660)
    except (KeyError, OSError) as e:
        raise HandshakeError(f"PLUGIN_UNIX_SOCKET_GROUP={group!r}: {e}") from e
