"""Drives Siphon's REST API with a third-party Kafka Connect client (PyPI kafka-connect-py),
as a Kafka Connect user would: create a PostgreSQL connector, see it RUNNING, pause, resume,
restart, read its offsets, stop, alter the offsets, delete. kafka-connect-py has no KIP-875
offsets calls, so those three use `requests` (the client's own HTTP library) directly.

Usage: connect_client.py <api url> <connector name> <config json> <topic>
Prints one JSON line: {"offset": <the offset it wrote with PATCH>}. Exits non-zero with a
message on the first thing that is not as Kafka Connect would answer.
"""

import json
import sys
import time

import requests
from kafka_connect import KafkaConnect
from requests.exceptions import HTTPError

url, name, config, topic = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
client = KafkaConnect(url=url)


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")


def wait_for(what, fn, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    sys.exit(f"FAILED: timed out waiting for {what}")


def state():
    return client.get_connector_status(name)["connector"]["state"]


def wait_state(s):
    wait_for(f"state {s} (now {state()})", lambda: state() == s)


info = client.get_cluster_info()
check("version" in info, f"cluster info {info}")
classes = [p["class"] for p in client.list_connector_plugins()]
check("io.debezium.connector.postgresql.PostgresConnector" in classes, f"plugins {classes}")

created = client.create_connector({"name": name, "config": config})
check(created["name"] == name and created["type"] == "source", f"create answered {created}")
check(created["config"].get("database.password") in (None, "[hidden]"), "password shown")
wait_state("RUNNING")
status = client.get_connector_status(name)
check(status["tasks"][0]["state"] == "RUNNING", f"task state {status}")
check(name in client.list_connectors(), "connector not listed")
check(client.list_connectors(expand="status")[name]["status"]["connector"]["state"] == "RUNNING", "expand=status")

# A bad config is refused with every problem at once; the running connector is untouched.
bad = {"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
       "database.port": "70000", "slot.nmae": "x", "topic.prefix": "bad"}
try:
    client.create_connector({"name": name + "_bad", "config": bad})
    sys.exit("FAILED: a bad config was accepted")
except HTTPError as e:
    body = e.response.json()
    check(e.response.status_code == 422 and body["error_code"] == 422, f"bad create answered {body}")
    for key in ["database.port", "slot.nmae", "database.hostname", "database.user", "database.dbname"]:
        check(key in body["message"], f"{key} missing from {body['message']}")
check(name + "_bad" not in client.list_connectors(), "the bad connector exists")
check(state() == "RUNNING", "the good connector stopped running")
validation = client.validate_connector_config("PostgresConnector", bad)
check(validation["error_count"] == 6, f"validate: {validation['error_count']} errors")

client.pause_connector(name)
wait_state("PAUSED")
client.resume_connector(name)
wait_state("RUNNING")
restarted = client.restart_connector(name, include_tasks=True, only_failed=False)
check(restarted["connector"]["state"] == "RESTARTING", f"restart answered {restarted}")
wait_state("RUNNING")
check(client.restart_connector(name) is None, "plain restart should be 204")
client.restart_connector_task(name, 0)
wait_state("RUNNING")
check(client.list_connector_tasks(name)[0]["id"] == {"connector": name, "task": 0}, "tasks")

topics = wait_for("the data topic", lambda: topic in client.list_connector_topics(name)[name]["topics"])


def offsets():
    r = requests.get(f"{url}/connectors/{name}/offsets")
    r.raise_for_status()
    return r.json()["offsets"]


current = wait_for("committed offsets", offsets)
check(current[0]["partition"] == {"server": config["topic.prefix"]}, f"partition {current}")
offset = current[0]["offset"]
check(offset["source"] == "postgres" and offset["commit_lsn"] > 0, f"offset {offset}")

# KIP-875: offsets change only while STOPPED.
new_offset = {"source": "postgres", "commit_lsn": offset["commit_lsn"], "lsn": offset["commit_lsn"]}
body = {"offsets": [{"partition": {"server": config["topic.prefix"]}, "offset": new_offset}]}
r = requests.patch(f"{url}/connectors/{name}/offsets", json=body)
check(r.status_code == 409, f"PATCH while running answered {r.status_code}")
client.stop_connector(name)
wait_state("STOPPED")
r = requests.patch(f"{url}/connectors/{name}/offsets", json=body)
check(r.status_code == 200, f"PATCH answered {r.status_code} {r.text}")
check(offsets()[0]["offset"] == new_offset, f"offsets after PATCH: {offsets()}")

client.delete_connector(name)
check(name not in client.list_connectors(), "still listed after delete")
try:
    client.get_connector_status(name)
    sys.exit("FAILED: status of a deleted connector")
except HTTPError as e:
    check(e.response.status_code == 404, f"deleted connector answered {e.response.status_code}")

print(json.dumps({"offset": new_offset}))
