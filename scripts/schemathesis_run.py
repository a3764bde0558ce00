#!/usr/bin/env python3
"""Runs schemathesis, with all its checks, against a running Salus signed in as an
administrator: every operation of /api/openapi.json, generated valid and invalid
requests, each response checked against the document (status declared, body matching
its schema, no server error, undeclared methods refused with 405).

    scripts/schemathesis_run.py http://127.0.0.1:8080 admin <password> [extra schemathesis args]

Start the server with the rate limits lifted (SALUS_LIMITS__API_PER_ADDRESS_BURST=1000000
SALUS_LIMITS__API_PER_ADDRESS_PER_MINUTE=10000000 salus demo). Rules for rejections the
schema cannot express (an unknown id, a cross-field rule) go in schemathesis.toml at the
repository's root. Exits with schemathesis's status. CI runs it on SQLite and PostgreSQL
through crates/salus/tests/schemathesis.rs.
"""
import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request


def sign_in(base: str, username: str, password: str) -> tuple[str, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def csrf(page: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if not found:
            sys.exit("no anti-forgery token on the page")
        return found.group(1)

    login = opener.open(base + "/login").read().decode()
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrf_token": csrf(login)}
    ).encode()
    opener.open(base + "/login", form)
    profile = opener.open(base + "/profile").read().decode()
    session = next((c.value for c in jar if c.name == "salus_session"), None)
    if not session:
        sys.exit("sign-in failed")
    return session, csrf(profile)


def main() -> int:
    base, username, password, *extra = sys.argv[1:]
    session, token = sign_in(base, username, password)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    command = [
        "schemathesis", "--config-file", os.path.join(root, "schemathesis.toml"), "run",
        base + "/api/openapi.json",
        "-H", f"Cookie: salus_session={session}",
        "-H", f"x-csrf-token: {token}",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", os.environ.get("SALUS_FUZZ_EXAMPLES", "25"),
        "--seed", os.environ.get("SALUS_FUZZ_SEED", "2026"),
        "--workers", "1",
        *extra,
    ]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
