"""The `switchboard` command: serve, migrate, create-admin, check, rotate-key, eval."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence

from backend.config import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    if args.migrate:
        cmd_migrate(args)
    # ws_per_message_deflate off: compressing ~100-byte token frames costs more CPU than it saves.
    from backend.limits.server import uvicorn_options

    uvicorn.run(
        "backend.main:create_app",
        **uvicorn_options(settings),
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        ws_per_message_deflate=False,
        # X-Forwarded-For is believed only from TRUSTED_PROXIES (none by default): anyone else could
        # rotate it to spread password guesses over made-up addresses.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
        timeout_graceful_shutdown=30,
    )
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    from backend.db.migrate import upgrade

    settings = _settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    print("database is up to date")
    return 0


async def _create_admin(email: str, username: str, password: str) -> str:
    from backend.auth.service import create_user
    from backend.context import AppContext
    from backend.errors import AppError

    ctx = AppContext.from_settings(_settings())
    try:
        async with ctx.db.session() as session:
            user = await create_user(session, email=email, username=username, password=password, role="admin")
            return str(user.id)
    except AppError as exc:
        raise SystemExit(f"switchboard: {exc.detail}") from None
    finally:
        await ctx.db.dispose()


def cmd_create_admin(args: argparse.Namespace) -> int:
    password = args.password or getpass.getpass("Password for the new admin: ")
    if len(password) < 8:
        print("switchboard: the password must have at least 8 characters", file=sys.stderr)
        return 2
    user_id = asyncio.run(_create_admin(args.email, args.username, password))
    print(f"created admin {args.username} ({user_id})")
    return 0


async def _check() -> bool:
    from backend.context import AppContext
    from backend.health.router import component_health

    settings = _settings()
    ctx = AppContext.from_settings(settings)
    try:
        if settings.redis_url:
            from redis.asyncio import Redis

            ctx.extras["redis"] = Redis.from_url(settings.redis_url, socket_timeout=2)
        components = await component_health(ctx)
        for name, state in components.items():
            extra = ", ".join(f"{k}={v}" for k, v in state.items() if k != "status")
            print(f"{name:10} {state['status']:5} {extra}")
        return all(c["status"] == "ok" for c in components.values())
    finally:
        redis = ctx.extras.get("redis")
        if redis is not None:
            await redis.aclose()
        await ctx.db.dispose()


def cmd_check(_: argparse.Namespace) -> int:
    return 0 if asyncio.run(_check()) else 1


async def _rotate_key() -> bool:
    from backend.context import AppContext
    from backend.security.rotation import rotate_all

    ctx = AppContext.from_settings(_settings())
    try:
        reports = await rotate_all(ctx)
    finally:
        await ctx.db.dispose()
    for report in reports:
        print(f"{report.label}: {report.rotated} re-encrypted, {report.unreadable} unreadable")
    return all(report.unreadable == 0 for report in reports)


def cmd_rotate_key(_: argparse.Namespace) -> int:
    if not _settings().encryption_keys:
        print("switchboard: set ENCRYPTION_KEYS=<new key>,<old keys...> before rotating", file=sys.stderr)
        return 2
    return 0 if asyncio.run(_rotate_key()) else 1


def cmd_eval(args: argparse.Namespace) -> int:
    from backend.evals.command import run_command

    return run_command(args)


def build_parser() -> argparse.ArgumentParser:
    from backend.evals.options import add_arguments as add_eval_arguments

    parser = argparse.ArgumentParser(prog="switchboard", description="Switchboard integration assistant")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server (and the built web app)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--migrate", action="store_true", help="apply migrations before serving")
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--username", required=True)
    admin.add_argument("--password", help="prompted for when omitted")
    admin.set_defaults(func=cmd_create_admin)

    commands.add_parser("check", help="print each component's health").set_defaults(func=cmd_check)
    commands.add_parser(
        "rotate-key", help="re-encrypt stored credentials under the first of ENCRYPTION_KEYS"
    ).set_defaults(func=cmd_rotate_key)

    evaluate = commands.add_parser("eval", help="score the agent on the evaluation cases (docs/evals.md)")
    add_eval_arguments(evaluate)
    evaluate.set_defaults(func=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
