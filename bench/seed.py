#!/usr/bin/env python3
"""Creates the benchmark's data through the management API, the way a customer would.

Three projects of 20 flags each: "plain" with user_id / user_email / email_domain rules,
"attribute" with attribute_match rules of three conditions, and "multivariate" with string flags of
three variants served by a 50/30/20 distribution and by the same three kinds of rule. The plain
project's production state is promoted to its staging environment too. Prints one line:
<plain project id> <plain sdk key> <attribute project id> <attribute sdk key> <plain staging sdk key>
<multivariate project id> <multivariate sdk key> <segmented project id> <segmented sdk key>
<large project id> <large sdk key>.
The "segmented" project's 20 flags each have a rule on one 10 000-identifier segment (every other
user), a 50 % rollout, and (but the first) one prerequisite, flag i requiring flag (i - 1) / 2.
The "large" project has 1 000 flags, each with a 50 % rollout and a user_id rule (created four
requests at a time).
Usage: seed.py BASE_URL
"""
import json
import secrets
from concurrent.futures import ThreadPoolExecutor
import sys
import urllib.error
import urllib.request

FLAGS = 20
# Mixed rollouts; None marks a disabled flag (its rules and rollout are never looked at).
ROLLOUTS = [0, 5, 10, 25, 50, 75, 100, None]


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"seed: {method} {path} answered {error.code}: {error.read().decode(errors='replace')}")


def create_flags(base, token, project_id, rules_for):
    for i in range(FLAGS):
        rollout = ROLLOUTS[i % len(ROLLOUTS)]
        flag = call(base, "POST", f"/api/projects/{project_id}/flags", {
            "name": f"Flag {i}", "key": f"flag_{i:02d}",
            "enabled": rollout is not None, "rollout_percentage": rollout or 0,
        }, token)
        for rule in rules_for(i):
            call(base, "POST", f"/api/projects/{project_id}/flags/{flag['id']}/rules", rule, token)


# Targets a handful of the 10 000 users evaluate.lua sends, so that most requests walk all three
# rules and fall through to the rollout, as they would in production.
def plain_rules(i):
    return [
        {"rule_type": "user_id", "rule_value": f"user_{i * 37}", "priority": 30},
        {"rule_type": "user_email", "rule_value": f"user_{i * 41 + 3}@example.com", "priority": 20},
        {"rule_type": "email_domain", "rule_value": "@corp.example" if i % 2 else "@partner.example",
         "priority": 10, "rollout_percentage": 50},
    ]


# Every operator family, negation and case folding, against the attributes evaluate.lua sends.
CONDITIONS = [
    {"attribute": "plan", "operator": "in", "values": ["pro", "enterprise"]},
    {"attribute": "app_version", "operator": "semver_gte", "values": ["2.4.0"]},
    {"attribute": "country", "operator": "in", "values": ["FR", "DE"], "negate": True},
    {"attribute": "seats", "operator": "gt", "values": [50]},
    {"attribute": "country", "operator": "starts_with", "values": ["u", "g"], "ignore_case": True},
    {"attribute": "user_id", "operator": "matches", "values": ["^user_[0-9]*7$"]},
    {"attribute": "signup", "operator": "after", "values": ["2026-03-01T00:00:00Z"]},
    {"attribute": "signup", "operator": "before", "values": ["2026-09-01T00:00:00Z"]},
    {"attribute": "app_version", "operator": "semver_lt", "values": ["3.0.0"]},
    {"attribute": "seats", "operator": "lte", "values": [400]},
    {"attribute": "plan", "operator": "equals", "values": ["free"], "negate": True},
]


def attribute_rules(i):
    rules = []
    for r in range(3):
        start = i * 3 + r * 4
        conditions = [CONDITIONS[(start + c) % len(CONDITIONS)] for c in range(3)]
        rules.append({"rule_type": "attribute_match", "priority": 30 - r * 10, "conditions": conditions,
                      "rollout_percentage": 100 if r else 50})
    return rules


VARIANTS = [{"key": "control", "value": "#000000"}, {"key": "blue", "value": "#0000ff"}, {"key": "green", "value": "#00aa00"}]
SPLIT = {"distribution": [{"variant": "control", "weight": 50}, {"variant": "blue", "weight": 30}, {"variant": "green", "weight": 20}]}


def create_multivariate_flags(base, token, project_id):
    for i in range(FLAGS):
        flag = call(base, "POST", f"/api/projects/{project_id}/flags", {
            "name": f"Flag {i}", "key": f"flag_{i:02d}", "value_type": "string", "enabled": i % 8 != 7,
            "variants": VARIANTS, "off_variant": "control", "serve": SPLIT,
        }, token)
        for rule, serve in zip(plain_rules(i), ({"variant": "green"}, {"variant": "blue"},
                                                 {"distribution": [{"variant": "blue", "weight": 50}, {"variant": "green", "weight": 50}]})):
            rule = {k: v for k, v in rule.items() if k != "rollout_percentage"}
            call(base, "POST", f"/api/projects/{project_id}/flags/{flag['id']}/rules", {**rule, "serve": serve}, token)


def create_segmented_flags(base, token, project_id):
    members = [f"user_{i}" for i in range(0, 20000, 2)]
    call(base, "POST", f"/api/projects/{project_id}/segments",
         {"key": "bench_segment", "name": "Every other user", "included": members}, token)
    for i in range(FLAGS):
        flag = call(base, "POST", f"/api/projects/{project_id}/flags", {
            "name": f"Flag {i}", "key": f"flag_{i:02d}", "enabled": True, "rollout_percentage": 50,
            "prerequisites": [] if i == 0 else [{"flag": f"flag_{(i - 1) // 2:02d}"}],
        }, token)
        call(base, "POST", f"/api/projects/{project_id}/flags/{flag['id']}/rules",
             {"rule_type": "segment", "rule_value": "bench_segment", "rollout_percentage": 80}, token)


LARGE_FLAGS = 1000


def create_large_flags(base, token, project_id):
    def create(i):
        flag = call(base, "POST", f"/api/projects/{project_id}/flags", {
            "name": f"Flag {i}", "key": f"flag_{i:04d}", "enabled": True, "rollout_percentage": 50,
        }, token)
        call(base, "POST", f"/api/projects/{project_id}/flags/{flag['id']}/rules",
             {"rule_type": "user_id", "rule_value": f"user_{i * 7}"}, token)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, range(LARGE_FLAGS)))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: seed.py BASE_URL")
    base = sys.argv[1].rstrip("/")
    account = {"email": f"bench-{secrets.token_hex(4)}@example.com", "password": secrets.token_urlsafe(18)}
    call(base, "POST", "/auth/register", account)
    token = call(base, "POST", "/auth/login", account)["token"]

    out = []
    for name, rules_for in (("Bench plain", plain_rules), ("Bench attribute", attribute_rules)):
        project = call(base, "POST", "/api/projects", {"name": name}, token)
        create_flags(base, token, project["id"], rules_for)
        out += [project["id"], project["sdk_key"]]
    plain = out[0]
    call(base, "POST", f"/api/projects/{plain}/environments/staging/copy-from/production", {}, token)
    environments = call(base, "GET", f"/api/projects/{plain}/environments", None, token)
    out.append(next(e["sdk_key"] for e in environments if e["key"] == "staging"))
    for name, create in (("Bench multivariate", create_multivariate_flags), ("Bench segmented", create_segmented_flags),
                         ("Bench 1000 flags", create_large_flags)):
        project = call(base, "POST", "/api/projects", {"name": name}, token)
        create(base, token, project["id"])
        out += [project["id"], project["sdk_key"]]
    print(" ".join(out))


if __name__ == "__main__":
    main()
