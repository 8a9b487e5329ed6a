#!/usr/bin/env bash
# plan-comment.sh [STACK]: the offline plan of a stack (`npm run plan -- --stack dev`: the program under
# Pulumi's mocks, no cloud account) summarised for a pull request: resources by type, every gate command
# exactly as it would run, and the full plan folded below. Posted as one PR comment that later runs
# update (found by a marker), and written to the job summary.
#
#   GH_TOKEN, PR_NUMBER, GITHUB_REPOSITORY  where to comment (GitHub sets the last; the workflow the
#                                           others). Without them, or with a read-only token (pull
#                                           requests from forks), only the job summary gets it.
# Exit: the plan's own (2 when the stack's config is invalid), so the check fails with it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

stack=${1:-dev}
valid_stack "$stack"

work=$(mktemp -d)
set +e
(cd "$ROOT" && npm run --silent plan -- --stack "$stack") >"$work/plan.txt" 2>&1
status=$?
(cd "$ROOT" && npm run --silent plan -- --stack "$stack" --json) >"$work/plan.json" 2>/dev/null
set -e

# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
PLAN_STACK=$stack PLAN_STATUS=$status node -e '
  const fs = require("fs");
  const [text, json] = process.argv.slice(1);
  const stack = process.env.PLAN_STACK;
  const status = Number(process.env.PLAN_STATUS);
  const full = fs.readFileSync(text, "utf8");
  const lines = [`<!-- slipway-plan:${stack} -->`, `### Offline plan of \`${stack}\``, ""];
  let plan;
  try { plan = JSON.parse(fs.readFileSync(json, "utf8")); } catch { plan = undefined; }
  if (status !== 0 || plan === undefined || !Array.isArray(plan.resources)) {
    lines.push(status === 2
      ? `**The config of \`${stack}\` is invalid**: \`pulumi up\` would stop before building anything.`
      : `**The plan failed** (exit ${status}).`);
  } else {
    const byType = new Map();
    for (const r of plan.resources) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
    const types = [...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    lines.push(`**${plan.resources.length} resources**: ` + types.map(([t, n]) => `${n} × \`${t}\``).join(", "), "");
    const gates = plan.resources
      .map((r) => r.inputs && r.inputs.create)
      .filter((c) => typeof c === "string" && c.includes("slipway-gate"));
    if (gates.length > 0) {
      lines.push("Gate commands, exactly as they would run:", "", "```sh", ...gates, "```");
    }
  }
  const limit = 50000;
  const shown = full.length > limit ? full.slice(0, limit) + "\n… (cut: run `npm run plan -- --stack " + stack + "` for the rest)" : full;
  lines.push("", "<details><summary>Full plan</summary>", "", "```text", shown.replace(/```/g, "``\u200b`"), "```", "", "</details>");
  fs.writeFileSync(process.argv[3], lines.join("\n") + "\n");
' "$work/plan.txt" "$work/plan.json" "$work/comment.md"

summary "$(cat "$work/comment.md")"

if [[ -n ${GH_TOKEN:-} && -n ${PR_NUMBER:-} && -n ${GITHUB_REPOSITORY:-} ]]; then
  marker="<!-- slipway-plan:$stack -->"
  existing=$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" \
    --jq ".[] | select(.body | startswith(\"$marker\")) | .id" 2>/dev/null | head -n 1 || true)
  if [[ -n $existing ]]; then
    gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$existing" -F "body=@$work/comment.md" >/dev/null ||
      warn "could not update the plan comment (read-only token?): the plan is in the job summary"
  else
    gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" -F "body=@$work/comment.md" >/dev/null ||
      warn "could not comment on the pull request (read-only token?): the plan is in the job summary"
  fi
else
  log "not commenting (no GH_TOKEN/PR_NUMBER): the plan summary is in $work/comment.md"
fi
exit "$status"
