#!/usr/bin/env bash
# notify.sh STACK WHAT: tells people a release failed: the code, the verdict's one line, the blockers,
# and where the report is (job summary, artifact). Run by the workflows when a job fails.
#
#   SLACK_WEBHOOK_URL        a Slack incoming webhook (secret): the message is posted there.
#   SMTP_URL, SMTP_USER,     an SMTP server (smtps://host:465 or smtp://host:587, STARTTLS required)
#   SMTP_PASSWORD, MAIL_FROM, and the addresses (comma-separated MAIL_TO): the message and the whole
#   MAIL_TO                  report are mailed.
# Neither configured: a warning (GitHub still emails the run's actor about the failure). A notification
# that cannot be delivered is a warning too: the job has already failed and says why.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

stack=${1:-}
what=${2:-release}
valid_stack "$stack"
ci="$CI_DIR_BASE/$stack"
run_url="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-?}/actions/runs/${GITHUB_RUN_ID:-?}"
work=$(mktemp -d)

# The message: the code of the report's first blocker; when that gate only did not run (the release
# stopped before it), the first catalog code in pulumi's log (CONFIG_INVALID, REGISTRY_AUTH_FAILURE ...).
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
NOTIFY_STACK=$stack NOTIFY_WHAT=$what NOTIFY_RUN=$run_url node -e '
  const fs = require("fs");
  const [codesJs, reportJson, upLog, out] = process.argv.slice(1);
  const e = process.env;
  const read = (f) => { try { return fs.readFileSync(f, "utf8"); } catch { return undefined; } };
  let report;
  try { report = JSON.parse(read(reportJson) ?? ""); } catch { report = undefined; }
  const { ALL_CODES } = require(codesJs);
  const log = read(upLog) ?? "";
  const fromLog = (log.match(/\b[A-Z][A-Z0-9_]+[A-Z0-9](?=: )/g) ?? []).find((c) => ALL_CODES.includes(c));
  // A first blocker that is only "not run" means the release stopped early: the log tells why.
  const first = (report?.findings ?? []).find((f) => f.kind === "blocker");
  const ranFirst = first !== undefined && !String(first.message).startsWith("not run");
  const code = (ranFirst ? report.code : undefined) ?? fromLog ?? report?.code ?? "UNKNOWN";
  const lines = [`Slipway ${e.NOTIFY_WHAT} failed on ${e.NOTIFY_STACK}: ${code}`];
  if (report !== undefined) lines.push(`${report.code ?? "PASS"}: ${report.summary}`);
  if (fromLog !== undefined && fromLog !== report?.code) lines.push(`pulumi up stopped with ${fromLog} (see the log)`);
  for (const d of (report?.details ?? []).slice(0, 10)) lines.push(`- ${d}`);
  lines.push(`Run, report (job summary and artifact): ${e.NOTIFY_RUN}`);
  fs.writeFileSync(out, lines.join("\n") + "\n");
' "$ROOT/dist/gates/codes.js" "$ci/report.json" "$ci/pulumi-up.log" "$work/message.txt"

cat "$work/message.txt" >&2
sent=0

if [[ -n ${SLACK_WEBHOOK_URL:-} ]]; then
  node -e 'process.stdout.write(JSON.stringify({ text: require("fs").readFileSync(process.argv[1], "utf8") }))' \
    "$work/message.txt" >"$work/slack.json"
  # The webhook URL is the secret: curl reads it from stdin (curl_option), not from its argv.
  if curl_option url "$SLACK_WEBHOOK_URL" | curl --config - --fail --silent --show-error --max-time 20 \
    -H 'Content-Type: application/json' --data @"$work/slack.json" >/dev/null; then
    log "notified Slack"
    sent=1
  else
    warn "the Slack webhook refused the notification"
  fi
fi

if [[ -n ${SMTP_URL:-} && -n ${MAIL_TO:-} && -n ${MAIL_FROM:-} ]]; then
  {
    printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' \
      "$MAIL_FROM" "$MAIL_TO" "$(head -n 1 "$work/message.txt")"
    cat "$work/message.txt"
    if [[ -f $ci/report.md ]]; then printf '\n\n'; cat "$ci/report.md"; fi
  } >"$work/mail.txt"
  rcpt=()
  IFS=',' read -ra addresses <<<"$MAIL_TO"
  for a in "${addresses[@]}"; do rcpt+=(--mail-rcpt "$(echo "$a" | xargs)"); done
  # The server URL and user:password are secrets: curl reads them from stdin, not from its argv.
  if { curl_option url "$SMTP_URL"; curl_option user "${SMTP_USER:-}:${SMTP_PASSWORD:-}"; } |
    curl --config - --fail --silent --show-error --max-time 30 --ssl-reqd \
      --mail-from "$MAIL_FROM" "${rcpt[@]}" --upload-file "$work/mail.txt"; then
    log "mailed $MAIL_TO"
    sent=1
  else
    warn "the SMTP server refused the notification"
  fi
fi

if ((sent == 0)); then
  warn "no notification sent: set the SLACK_WEBHOOK_URL secret, or SMTP_URL/SMTP_USER/SMTP_PASSWORD/MAIL_FROM/MAIL_TO"
fi
summary "" "### Notification" "" '```text' "$(cat "$work/message.txt")" '```'
