"""Manage who may sign in: ``python -m rct_users add NAME --role finance --team emea`` (asks for the
password), ``set-role NAME --role admin``, ``set-teams NAME --team emea --team apac``, ``remove NAME``,
``list``. The users file is RCT_USERS_FILE, else ``users.json`` in the cache directory; it holds salted
password hashes only.

Teams decide who sees an upload's results: its uploader and the members of the uploader's teams (admins see
every dataset; embedded datasets and the server's database connections are everyone's)."""

from __future__ import annotations

import argparse
import getpass
import sys

import auth
from settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rct_users", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a user, or change their password and role")
    add.add_argument("name")
    add.add_argument("--role", choices=auth.ROLES, required=True)
    add.add_argument("--team", action="append", help="a team the user is in (repeat for several)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--provider-only", action="store_true",
                     help="no password: the user signs in through the OpenID provider (RCT_OIDC_ISSUER)")
    set_role = commands.add_parser("set-role", help="change a user's role")
    set_role.add_argument("name")
    set_role.add_argument("--role", choices=auth.ROLES, required=True)
    set_teams = commands.add_parser("set-teams", help="replace a user's teams (none given: no team)")
    set_teams.add_argument("name")
    set_teams.add_argument("--team", action="append", default=[])
    commands.add_parser("remove", help="remove a user (signed out at once)").add_argument("name")
    commands.add_parser("list", help="list users and roles")
    args = parser.parse_args(argv)
    path = Settings.from_env().users_path
    try:
        if args.command == "add":
            if args.provider_only:
                password = None
            elif args.password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            else:
                password = getpass.getpass(f"password for {args.name}: ")
                if getpass.getpass("again: ") != password:
                    raise ValueError("the two passwords differ")
            auth.save_user(path, args.name, password, args.role, args.team, provider_only=args.provider_only)
        elif args.command == "set-role":
            auth.save_user(path, args.name, None, args.role)
        elif args.command == "set-teams":
            auth.save_user(path, args.name, None, None, args.team)
        elif args.command == "remove":
            if not auth.remove_user(path, args.name):
                raise ValueError(f"no user {args.name!r}")
        else:
            for name, entry in sorted(auth.load_users(path).items()):
                print(f"{name}\t{entry['role']}\t{','.join(entry.get('teams', ()))}")
            return 0
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: {args.command} {args.name} done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
