#!/usr/bin/env bash
# cli_serve: `bitt serve` at the curl level, every way a request can be
# refused: bad JSON, fields of the wrong type or range, features it does not
# have, oversized bodies (with and without Content-Length), prompts over
# --max-prompt-tokens, max_tokens over the limit, unknown endpoints and
# methods, unknown or busy memories, state files that are not states or of
# another model; a full queue answers 503; a client that goes away stops its
# generation and frees its slot. Every refusal is an OpenAI error object, the
# server never crashes and stops cleanly on SIGTERM (the ASan suite runs this
# too). Also the flags that stop it from starting.
# Usage: bash serve.sh /path/to/bitt
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
need_server

run_ok "$BITT" init --out m.bitt --dim 64 --layers 2 --vocab 512 --seed 1
run_ok "$BITT" init --out other.bitt --dim 64 --layers 2 --vocab 512 --seed 2

# --- flags that stop it from starting -------------------------------------------
expect_fail "no model" 'model is required' "$BITT" serve
expect_fail "missing model file" 'nothere\.bitt' "$BITT" serve --model nothere.bitt --port 0
expect_fail "bad host" 'not an IPv4 or IPv6' "$BITT" serve --model m.bitt --host localhost.example --port 0
expect_fail "threads with parallel" 'needs --parallel 1' "$BITT" serve --model m.bitt --threads 2 --parallel 2
expect_fail "bad port" 'port' "$BITT" serve --model m.bitt --port 70000
run_ok "$BITT" convert m.bitt badtpl
python3 - badtpl/config.json <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["chat_template"] = {"user": "no placeholder"}
json.dump(c, open(sys.argv[1], "w"))
PY
expect_fail "a malformed chat template" 'config\.json.*must hold \{content\}' "$BITT" serve --model badtpl --port 0

start_server --model m.bitt --parallel 1 --queue 0 --max-prompt-tokens 50 --max-body-kb 8 --max-tokens-limit 5000
# the port is taken now: a second server cannot listen there
expect_fail "port in use" 'cannot listen' "$BITT" serve --model m.bitt --port "${URL##*:}"

post() { # post PATH JSON
    http POST "$1" -H 'Content-Type: application/json' --data-binary "$2"
}

# --- bad bodies -------------------------------------------------------------------
post /v1/completions '{"prompt": "x"'
api_error_is 400 invalid_json
post /v1/completions $'{"prompt": "\xff"}'
api_error_is 400 invalid_json
post /v1/completions "$(python3 -c 'print("[" * 100 + "]" * 100)')"
api_error_is 400 invalid_json
post /v1/completions '"just a string"'
api_error_is 400 invalid_json
post /v1/completions ''
api_error_is 400 invalid_json
post /v1/completions '{}'
api_error_is 400 missing_field
post /v1/chat/completions '{"prompt": "x"}'
api_error_is 400 missing_field

# --- fields of the wrong type or range: named in "param" -------------------------
for bad in '"temperature": "hot"' '"temperature": 9' '"max_tokens": 1.5' '"max_tokens": -3' '"top_p": 0' \
    '"top_k": -1' '"seed": "s"' '"stream": 1' '"stop": 7' '"stop": [""]' '"presence_penalty": 10' \
    '"frequency_penalty": "f"' '"min_p": 1.5' '"repetition_penalty": 0' '"logprobs": true' '"conversation_id": "a/b"' \
    '"stream_options": 5' '"model": 3'; do
    post /v1/completions "{\"prompt\": \"x\", $bad}"
    field=${bad%%\":*}
    api_error_is 400 invalid_value "${field#\"}"
done
for bad in '"messages": "hi"' '"messages": []' '"messages": [{"role": "robot", "content": "x"}]' \
    '"messages": [{"role": "user"}]' '"messages": [{"role": "user", "content": 5}]'; do
    post /v1/chat/completions "{$bad}"
    api_error_is 400 invalid_value
done
# --- OpenAI features it does not have ------------------------------------------
for bad in '"n": 2' '"echo": true' '"best_of": 2' '"suffix": "x"' '"logit_bias": {"1": 5}'; do
    post /v1/completions "{\"prompt\": \"x\", $bad}"
    api_error_is 400 unsupported
done
post /v1/chat/completions '{"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}'
api_error_is 400 unsupported
post /v1/chat/completions '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}'
api_error_is 400 unsupported

# --- limits -------------------------------------------------------------------------
python3 -c 'import json; print(json.dumps({"prompt": "a" * 9000}))' >big.json
http POST /v1/completions -H 'Content-Type: application/json' --data-binary @big.json
api_error_is 400 request_too_large
http POST /v1/completions -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @big.json
api_error_is 400 request_too_large
post /v1/completions "{\"prompt\": \"$(printf 'word %.0s' $(seq 60))\"}"
api_error_is 400 context_length_exceeded
post /v1/chat/completions "{\"messages\": [{\"role\": \"user\", \"content\": \"$(printf 'word %.0s' $(seq 60))\"}]}"
api_error_is 400 context_length_exceeded
post /v1/completions '{"prompt": "x", "max_tokens": 5001}'
api_error_is 400 invalid_value
grep -q 'max-tokens-limit' "$TMP/body" || fail "the max_tokens refusal does not name the limit"
ok

# --- endpoints and methods ------------------------------------------------------------
http GET /v1/nothing
api_error_is 404 not_found
http GET /v1/completions
api_error_is 405 method_not_allowed
http DELETE /v1/models
api_error_is 405 method_not_allowed
http GET /v1/models/not-this-one
api_error_is 404 model_not_found
http GET /v1/models/m
[[ $STATUS == 200 ]] && jcheck "$TMP/body" 'd["id"] == "m" and d["object"] == "model"'

# --- memories -------------------------------------------------------------------------
http GET /v1/bitt/state/conv-none
api_error_is 404 conversation_not_found
http DELETE /v1/bitt/state/conv-none
api_error_is 404 conversation_not_found
http GET '/v1/bitt/state/a%20b'
api_error_is 400 invalid_value
post /v1/completions '{"prompt": "x", "conversation_id": "never-stored", "max_tokens": 2}'
api_error_is 404 conversation_not_found
head -c 3000 /dev/urandom >garbage.state
http PUT /v1/bitt/state/g1 --data-binary @garbage.state
api_error_is 400 invalid_state
run_ok "$BITT" generate --model other.bitt --prompt "The cat" --max-tokens 2 --state-out other.state
http PUT /v1/bitt/state/o1 --data-binary @other.state
api_error_is 400 invalid_state
grep -q 'another model' "$TMP/body" || fail "a state of another model is not called that: $(cat "$TMP/body")"
ok

# --- a full queue answers 503; a client that goes away frees its slot -----------------
# a client that stops reading its stream holds the only slot (--parallel 1, --queue 0):
# the server's send buffer fills and the generation waits
python3 - "${URL#http://}" >slow.out <<'PY' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, int(port)))
body = b'{"prompt": "Once", "max_tokens": 4000, "stream": true, "temperature": 0}'
s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
          % (len(body), body))
sys.stdout.write(s.recv(200).decode("latin-1"))
sys.stdout.flush()
time.sleep(120)
PY
SLOW=$!
BG_PIDS+=("$SLOW")
held=0
for ((i = 0; i < 100; i++)); do
    http GET /health
    if grep -q '"busy":1,' "$TMP/body"; then
        held=1
        break
    fi
    sleep 0.1
done
((held)) || fail "the slow stream never held the slot: $(cat "$TMP/body")"
sleep 0.5
http GET /health
grep -q '"busy":1,' "$TMP/body" || fail "the slot of the stalled stream is free: $(cat "$TMP/body")" # its generation waits
ok
post /v1/completions '{"prompt": "x", "max_tokens": 2}'
api_error_is 503 server_busy
kill "$SLOW" 2>/dev/null || true
wait "$SLOW" 2>/dev/null || true
freed=0
for ((i = 0; i < 100; i++)); do
    http GET /health
    if grep -q '"busy":0,' "$TMP/body" && ! grep -q '"cancelled":0,' "$TMP/body"; then
        freed=1
        break
    fi
    sleep 0.1
done
((freed)) || fail "the slot of a client that went away was not freed (or not counted as cancelled): $(cat "$TMP/body")"
ok
grep -q 'text/event-stream' slow.out || fail "the slow stream got no event-stream headers: $(head -c 200 slow.out)"
ok
grep -q '"rejected_busy":0' "$TMP/body" && fail "the 503 is not counted in /health"
ok
post /v1/completions '{"prompt": "x", "max_tokens": 2, "temperature": 0}'
[[ $STATUS == 200 ]] || fail "a request after the cancelled one failed: $STATUS $(cat "$TMP/body")"
jcheck "$TMP/body" 'd["object"] == "text_completion" and d["usage"]["completion_tokens"] == 2'

http GET /health
[[ $STATUS == 200 ]] || fail "/health after all that: $STATUS"
jcheck "$TMP/body" 'd["status"] == "ok" and d["requests"]["failed"] >= 1'
check_errors
stop_server
finish
