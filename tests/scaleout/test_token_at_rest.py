"""The HF token saved through `configure --hf-token-stdin` reaches PostgreSQL only as ciphertext, and
the commands show only its last 4 characters."""

import json
import secrets

import pytest

pytestmark = [pytest.mark.scaleout]


def test_the_token_is_stored_encrypted_in_postgresql_and_shown_by_its_last_4_characters(make_stack, hub):
    stack = make_stack("token", redis=False)
    token = "hf_" + secrets.token_hex(17)
    hub.add_token(token, user="alice", can_access=["*"])

    saved = stack.manage("configure", "--hub-endpoint", hub.url, "--hf-token-stdin", "--json",
                         input=token + "\n")
    assert token not in saved.stdout + saved.stderr
    assert f"…{token[-4:]}" in json.loads(saved.stdout)["token"]

    (row,) = stack.db.query("SELECT * FROM settings_app_setting")
    assert all(token not in str(value) for value in row.values()), "the token is in settings_app_setting"
    assert token[3:-4] not in str(row["hf_token_encrypted"]) and len(row["hf_token_encrypted"]) > len(token)
    assert row["hf_token_last4"] == token[-4:]
    # Nor anywhere else in the database (logs of tasks, events, sessions...).
    columns = stack.db.query(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')")
    assert len(columns) > 50
    for c in columns:
        hits = stack.db.query(f'SELECT COUNT(*) AS n FROM "{c["table_name"]}" '
                              f'WHERE strpos("{c["column_name"]}"::text, ?) > 0', (token,))
        assert hits[0]["n"] == 0, f"the token is in {c['table_name']}.{c['column_name']}"

    shown = stack.manage("configure", "--json")
    assert token not in shown.stdout and f"…{token[-4:]}" in json.loads(shown.stdout)["token"]
    # The ciphertext is the token, not a mangled copy: decrypted in another process, the Hub accepts it.
    checked = stack.manage("configure", "--check-token", "--json")
    assert json.loads(checked.stdout)["token_check"]["user"] == "alice"
    assert token not in checked.stdout + checked.stderr
