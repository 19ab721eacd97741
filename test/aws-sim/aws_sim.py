#!/usr/bin/env python3
"""multus-hookd's local AWS: moto 5.2.1 in-process, patched to behave like AWS.

  python3 test/aws-sim/aws_sim.py --port 0 --ready-file F [--auth] [--auth-after N]
      [--time-scale S] [--region R] [--latency-ms N] [--host 127.0.0.1] [--verbose]

Serves EC2, Auto Scaling, STS, IAM, SQS, SNS, EventBridge and CloudFormation on one
loopback port (moto routes by the SigV4 credential scope's service), plus the JSON
control API under /_sim/. Writes the bound port to the ready file (atomically) once
it accepts requests; exits 0 on SIGTERM or SIGINT. See README.md.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# Plugins in load order. The last two belong to the lifecycle work and may be absent.
PLUGINS = ["sim_ec2", "sim_faults", "sim_asg", "sim_events"]
OPTIONAL_PLUGINS = {"sim_asg", "sim_events"}


def _fail(msg: str) -> None:
    sys.stderr.write(f"aws_sim: {msg}\n")
    sys.exit(2)


def check_moto_version() -> None:
    """Exit with a clear message unless moto 5.2.1 (with its server extras) imports."""
    try:
        import moto
    except ImportError as e:
        _fail(f"moto is not installed ({e}); the simulator needs moto 5.2.1 with server extras")
    from sim_core import MOTO_VERSION

    if getattr(moto, "__version__", None) != MOTO_VERSION:
        _fail(
            f"moto {getattr(moto, '__version__', '?')} found but the simulator patches moto "
            f"{MOTO_VERSION} internals; install exactly moto=={MOTO_VERSION}"
        )
    try:
        import flask  # noqa: F401
        import werkzeug.serving  # noqa: F401
        from moto.moto_server.werkzeug_app import (  # noqa: F401
            DomainDispatcherApplication,
            create_backend_app,
        )
    except ImportError as e:
        _fail(f"moto server dependencies missing ({e}): install moto[server]")


def load_plugins(sim: object, names: list[str] | None = None) -> list[str]:
    """Import each plugin, call its check_moto() then install(sim). Returns the loaded names.

    A missing optional plugin is skipped; any other failure is fatal (raised)."""
    from sim_core import MotoMismatch

    loaded = []
    for name in names if names is not None else PLUGINS:
        try:
            mod = importlib.import_module(name)
        except ImportError as e:
            if name in OPTIONAL_PLUGINS and getattr(e, "name", None) == name:
                continue
            raise
        check = getattr(mod, "check_moto", None)
        install = getattr(mod, "install", None)
        if check is None or install is None:
            raise MotoMismatch(f"plugin {name} must define check_moto() and install(sim)")
        check()
        install(sim)
        loaded.append(name)
    return loaded


def _write_ready(path: str, port: int) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--ready-file", help="write the bound port here when ready")
    ap.add_argument(
        "--auth",
        action="store_true",
        help="verify signatures and IAM policies (moto) from the start; "
        "create keys with POST /_sim/credentials",
    )
    ap.add_argument(
        "--auth-after",
        type=int,
        default=None,
        metavar="N",
        help="with --auth: let the first N AWS requests through unchecked "
        "(moto's INITIAL_NO_AUTH_ACTION_COUNT)",
    )
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="added to every AWS call")
    ap.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    args = ap.parse_args(argv)
    if not args.time_scale > 0:
        ap.error("--time-scale must be > 0")
    if args.latency_ms < 0:
        ap.error("--latency-ms must be >= 0")

    check_moto_version()
    import sim_core
    from werkzeug.serving import WSGIRequestHandler, make_server

    sim = sim_core.Sim(region=args.region, time_scale=args.time_scale, latency_ms=args.latency_ms)
    try:
        sim.plugins = load_plugins(sim)
    except sim_core.MotoMismatch as e:
        _fail(f"incompatible moto: {e}")

    if args.auth:
        sim_core.set_auth(sim, True)
        if args.auth_after:
            from moto import settings

            settings.INITIAL_NO_AUTH_ACTION_COUNT = args.auth_after
    elif args.auth_after is not None:
        ap.error("--auth-after needs --auth")

    class Handler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if args.verbose:
                super().log_request(code, size)

    app = sim_core.SimApp(sim)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=Handler)
    server.daemon_threads = True
    sim.port = server.server_port
    sim.base_url = f"http://{args.host}:{sim.port}"

    def stop(signum: int, frame: object) -> None:
        if not sim.stopping.is_set():
            sim.stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    # moto builds its EC2 backend (AMIs, instance types) on first use: about a second.
    # Do it before the ready file so the first real request does not pay for it.
    with sim.lock:
        sim.ec2()
        sim.autoscaling()
    sim.run_startup()
    if args.ready_file:
        _write_ready(args.ready_file, sim.port)
    sys.stderr.write(f"aws_sim: serving on {sim.base_url} (plugins: {', '.join(sim.plugins)})\n")
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        sim.stopping.set()
        sim.run_shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
