# Mutual TLS (CAF's OpenSSL module) with certificates from `segflow certs
# init`: serve, its worker process and ctl talk only with certificates of
# the same CA; a plaintext client of a TLS serve and a client whose
# certificate comes from another CA are refused. Listening beyond loopback
# without TLS is refused naming the fix; --insecure allows it with a loud
# warning in the log.
source "$(dirname "$0")/serve_lib.bash"

# The CA and two hosts; keys 0600; a second run keeps the CA.
"$SEGFLOW" certs init "$WORK/pki" --host 127.0.0.1 --host ctl-host > "$WORK/certs.txt" \
  || fail "certs init: $(cat "$WORK/certs.txt")"
for f in ca.key 127.0.0.1.key ctl-host.key; do
  [ "$(stat -c %a "$WORK/pki/$f")" = 600 ] || fail "$f mode $(stat -c %a "$WORK/pki/$f")"
done
openssl verify -CAfile "$WORK/pki/ca.pem" "$WORK/pki/127.0.0.1.pem" "$WORK/pki/ctl-host.pem" \
  > /dev/null || fail "the host certificates do not verify against the CA"
openssl x509 -in "$WORK/pki/127.0.0.1.pem" -noout -ext subjectAltName | grep -q "IP Address:127.0.0.1" \
  || fail "no IP subjectAltName"
ca_before="$(sha256sum < "$WORK/pki/ca.pem")"
"$SEGFLOW" certs init "$WORK/pki" --host node2 | grep -q "(kept)" || fail "the CA was not kept"
[ "$(sha256sum < "$WORK/pki/ca.pem")" = "$ca_before" ] || fail "a second run replaced the CA"
openssl verify -CAfile "$WORK/pki/ca.pem" "$WORK/pki/node2.pem" > /dev/null \
  || fail "a host added later does not verify against the CA"
"$SEGFLOW" certs init "$WORK/other" --host evil > /dev/null || fail "certs init (other CA)"
! openssl verify -CAfile "$WORK/pki/ca.pem" "$WORK/other/evil.pem" > /dev/null 2>&1 \
  || fail "another CA's certificate verifies against ours"

serve_tls=(--tls-cert "$WORK/pki/127.0.0.1.pem" --tls-key "$WORK/pki/127.0.0.1.key"
           --tls-ca "$WORK/pki/ca.pem")
ctl_tls=(--tls-cert "$WORK/pki/ctl-host.pem" --tls-key "$WORK/pki/ctl-host.key"
         --tls-ca "$WORK/pki/ca.pem")
acq="$(synth_acquisition "$WORK/a" --frames 3 --width 320 --height 240 --seed 9)"
start_serve --workers 0 --worker-processes 1 "${serve_tls[@]}"
grep -q "tls=mutual" "$SERVE_LOG" || fail "serve does not say it uses TLS"
ctl "${ctl_tls[@]}" add "$acq" > /dev/null || fail "ctl over TLS"
# Only the worker process segments: it joined over TLS.
job_state_tls() { ctl "${ctl_tls[@]}" status 1 --json | jq -r .state; }
tls_job_done() { [ "$(job_state_tls)" = done ]; }
wait_for 120 tls_job_done || fail "job over a TLS worker process: $(job_state_tls)"

# Refused: plaintext, a certificate of another CA (trusting either CA).
refused() {
  set +e
  timeout 30 "$SEGFLOW" ctl --connect "$SERVE_ADDR" --token "$STATE/token" --timeout 5 "$@" \
    list > /dev/null 2> "$WORK/refused.txt"
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "ctl $* against a TLS serve: exit $rc"
  grep -q "cannot reach segflow serve" "$WORK/refused.txt" \
    || fail "ctl $*: $(cat "$WORK/refused.txt")"
}
refused
refused --tls-cert "$WORK/other/evil.pem" --tls-key "$WORK/other/evil.key" \
  --tls-ca "$WORK/other/ca.pem"
refused --tls-cert "$WORK/other/evil.pem" --tls-key "$WORK/other/evil.key" \
  --tls-ca "$WORK/pki/ca.pem"
ctl "${ctl_tls[@]}" list > /dev/null || fail "serve stopped answering after the refusals"
stop_serve TERM
[ "$SERVE_RC" -eq 0 ] || fail "TLS serve: exit $SERVE_RC"

# Beyond loopback: TLS or nothing (--insecure for tests, loudly).
set +e
"$SEGFLOW" serve --listen 0.0.0.0:0 --state "$WORK/st-open" > /dev/null 2> "$WORK/open.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "serve on 0.0.0.0 without TLS: exit $rc"
grep -q "needs mutual TLS: give --tls-cert, --tls-key and --tls-ca" "$WORK/open.txt" \
  && grep -q "segflow certs init" "$WORK/open.txt" || fail "no fix named: $(cat "$WORK/open.txt")"
STATE="$WORK/st-insecure"
start_serve --listen 0.0.0.0:0 --insecure
grep -q "INSECURE: serve listens on 0.0.0.0:0 WITHOUT TLS" "$SERVE_LOG" \
  || fail "--insecure does not warn: $(head -5 "$SERVE_LOG")"
stop_serve TERM
STATE="$WORK/st-tls-any"
start_serve --listen 0.0.0.0:0 "${serve_tls[@]}"
! grep -q "INSECURE" "$SERVE_LOG" || fail "a TLS serve warned of being insecure"
SERVE_ADDR="127.0.0.1:${SERVE_ADDR##*:}"
ctl "${ctl_tls[@]}" list > /dev/null || fail "ctl to a TLS serve on 0.0.0.0"
stop_serve TERM
echo "ok: mutual TLS"
