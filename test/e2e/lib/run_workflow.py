#!/usr/bin/env python3
"""Runs a GitHub Actions workflow's jobs on this machine, the way a runner would, for the e2e tests.

usage: run_workflow.py WORKFLOW.yml --workdir DIR --run-dir DIR --event EVENT [--ref REF] [--sha SHA]
                       [--input NAME=VALUE]... [--secrets-file FILE]

Jobs run in file order (each job's `needs` must have run before it; a job whose needs did not all
succeed is skipped, as GitHub does), with the job's `if:` evaluated. Each `run:` step runs as GitHub's
default shell does (`bash --noprofile --norc -eo pipefail`) in --workdir, with the workflow, job and
step `env:` (expressions evaluated) and the variables a runner sets: GITHUB_OUTPUT (a fresh file per
step, read back into steps.<id>.outputs), GITHUB_STEP_SUMMARY (one per job, kept in the run dir),
GITHUB_SHA, GITHUB_REF, GITHUB_EVENT_NAME, GITHUB_WORKSPACE, GITHUB_RUN_ID, RUNNER_TEMP (fresh per job),
CI and GITHUB_ACTIONS. Secrets come from --secrets-file (NAME=VALUE lines), never the command line.
Unlike GitHub, nothing is masked in the logs: the test proves villager itself prints no secret.

`uses:` steps: actions/checkout (the work dir is already the checkout; must be a git work tree),
aws-actions/configure-aws-credentials (needs a non-empty role-to-assume and aws-region; the "assumed"
credentials are the key pair in --aws-credentials, KEY_ID:SECRET, exported to the job's later steps as
the action does; without that option the step fails),
actions/upload-artifact (copies `path` into RUN_DIR/artifacts/NAME; `if-no-files-found: error` fails on
an empty path), actions/download-artifact (the artifact must have been uploaded earlier in this run and
every file of it must be at `path`, as the work dir is shared). Any other action fails the step, so a
workflow this harness cannot run faithfully fails the test rather than passing it.

Expressions: secrets.X, inputs.X, github.{sha,ref,event_name,run_id,workspace,actor}, runner.temp,
needs.J.outputs.X, steps.S.outputs.X; `if:` also always(), success(), failure() and `A == 'B'`.
Anything else is an error. Writes RUN_DIR/result.json: {"jobs": {ID: "success"|"failure"|"skipped"}};
exit 0 when no job failed.
"""
import argparse, json, os, re, shutil, subprocess, sys
import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class Unsupported(Exception):
    pass


class Context:
    def __init__(self, args, workflow, secrets):
        self.args, self.secrets = args, secrets
        self.inputs = dispatch_defaults(workflow) if args.event == "workflow_dispatch" else {}
        for kv in args.input:
            name, _, value = kv.partition("=")
            self.inputs[name] = value
        self.needs, self.steps, self.temp = {}, {}, ""

    def lookup(self, expr):
        parts = expr.split(".")
        github = {"sha": self.args.sha, "ref": self.args.ref, "event_name": self.args.event,
                  "run_id": "1", "workspace": self.args.workdir, "actor": "e2e-actor"}
        if parts[0] == "secrets" and len(parts) == 2:
            return self.secrets.get(parts[1], "")
        if parts[0] == "inputs" and len(parts) == 2:
            return str(self.inputs.get(parts[1], "")).lower() if isinstance(self.inputs.get(parts[1]), bool) \
                else str(self.inputs.get(parts[1], ""))
        if parts[0] == "github" and len(parts) == 2 and parts[1] in github:
            return github[parts[1]]
        if expr == "runner.temp":
            return self.temp
        if parts[0] == "needs" and len(parts) == 4 and parts[2] == "outputs":
            return self.needs.get(parts[1], {}).get("outputs", {}).get(parts[3], "")
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.steps.get(parts[1], {}).get(parts[3], "")
        raise Unsupported(f"unsupported expression '{expr}'")

    def substitute(self, value):
        return EXPR.sub(lambda m: self.lookup(m.group(1)), str(value))

    def condition(self, text, failed):
        text = EXPR.sub(lambda m: m.group(1), str(text)).strip()
        if text == "always()":
            return True
        if text == "success()":
            return not failed
        if text == "failure()":
            return failed
        m = re.fullmatch(r"([\w.-]+)\s*==\s*'([^']*)'", text)
        if m:
            return not failed and self.lookup(m.group(1)) == m.group(2)
        raise Unsupported(f"unsupported condition '{text}'")


def dispatch_defaults(workflow):
    on = workflow.get("on", workflow.get(True, {})) or {}
    inputs = ((on.get("workflow_dispatch") or {}).get("inputs")) or {}
    return {k: v.get("default", "") for k, v in inputs.items()}


def read_outputs(path):
    """name=value lines and name<<DELIM heredocs, as $GITHUB_OUTPUT takes them."""
    out, lines, i = {}, open(path, encoding="utf-8").read().splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body = []
            i += 1
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i]); i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        i += 1
    return out


def files_under(path):
    if os.path.isfile(path):
        return [""]
    found = []
    for root, _, names in os.walk(path):
        for n in names:
            found.append(os.path.relpath(os.path.join(root, n), path))
    return sorted(found)


def assume_role(ctx, w, log, job_env):
    role, region = w.get("role-to-assume", ""), w.get("aws-region", "")
    if not role or not region or not ctx.args.aws_credentials:
        log.write(f"configure-aws-credentials: role '{role}', region '{region}': cannot assume\n")
        return False
    key_id, _, secret = open(ctx.args.aws_credentials, encoding="utf-8").read().strip().partition(":")
    job_env.update({"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": region,
                    "AWS_DEFAULT_REGION": region})
    log.write(f"configure-aws-credentials: assumed {role} in {region}\n")
    return True


def run_action(ctx, step, log, job_env):
    uses, w = step["uses"], {k: ctx.substitute(v) for k, v in (step.get("with") or {}).items()}
    work, store = ctx.args.workdir, os.path.join(ctx.args.run_dir, "artifacts")
    if uses.startswith("aws-actions/configure-aws-credentials@"):
        return assume_role(ctx, w, log, job_env)
    if uses.startswith("actions/checkout@"):
        return subprocess.run(["git", "-C", work, "rev-parse", "--is-inside-work-tree"], stdout=log).returncode == 0
    if uses.startswith("actions/upload-artifact@"):
        src = os.path.join(work, w["path"])
        if not os.path.exists(src) or not files_under(src):
            log.write(f"upload-artifact: no files at {w['path']}\n")
            return w.get("if-no-files-found", "warn") != "error"
        dst = os.path.join(store, w["name"])
        if os.path.isdir(src):
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            os.makedirs(dst, exist_ok=True); shutil.copy(src, dst)
        log.write(f"upload-artifact: {w['name']} <- {w['path']} ({len(files_under(src))} files)\n")
        return True
    if uses.startswith("actions/download-artifact@"):
        src = os.path.join(store, w["name"])
        if not os.path.isdir(src):
            log.write(f"download-artifact: no artifact '{w['name']}' was uploaded in this run\n")
            return False
        for rel in files_under(src):
            a, b = os.path.join(src, rel), os.path.join(work, w["path"], rel)
            if not os.path.isfile(b) or open(a, "rb").read() != open(b, "rb").read():
                log.write(f"download-artifact: {rel} of '{w['name']}' is not at {w['path']}\n")
                return False
        log.write(f"download-artifact: {w['name']} -> {w['path']}\n")
        return True
    log.write(f"harness: action {uses} is not supported\n")
    return False


def run_script(ctx, step, env, log, summary):
    out_file = os.path.join(ctx.temp, f"output-{len(os.listdir(ctx.temp))}")
    open(out_file, "w").close()
    script = os.path.join(ctx.temp, "step.sh")
    with open(script, "w") as f:
        f.write(step["run"])
    full = dict(os.environ)
    full.update({"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out_file,
                 "GITHUB_STEP_SUMMARY": summary, "GITHUB_SHA": ctx.args.sha, "GITHUB_REF": ctx.args.ref,
                 "GITHUB_EVENT_NAME": ctx.args.event, "GITHUB_WORKSPACE": ctx.args.workdir,
                 "GITHUB_RUN_ID": "1", "RUNNER_TEMP": ctx.temp})
    full.update(env)
    rc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], cwd=ctx.args.workdir,
                        env=full, stdout=log, stderr=subprocess.STDOUT).returncode
    if step.get("id"):
        ctx.steps[step["id"]] = read_outputs(out_file)
    return rc == 0


def run_job(ctx, job_id, job, wf_env):
    ctx.steps = {}
    ctx.temp = os.path.join(ctx.args.run_dir, "jobs", job_id, "temp")
    os.makedirs(ctx.temp)
    summary = os.path.join(ctx.args.run_dir, "jobs", job_id, "summary.md")
    open(summary, "w").close()
    env = dict(wf_env)
    env.update({k: ctx.substitute(v) for k, v in (job.get("env") or {}).items()})
    failed = False
    with open(os.path.join(ctx.args.run_dir, "jobs", job_id, "log.txt"), "w") as log:
        for n, step in enumerate(job["steps"]):
            name = step.get("name", step.get("uses", f"step {n}"))
            if not ctx.condition(step.get("if", "success()"), failed):
                log.write(f"::: {name}: skipped\n"); continue
            log.write(f"::: {name}\n"); log.flush()
            step_env = dict(env)
            step_env.update({k: ctx.substitute(v) for k, v in (step.get("env") or {}).items()})
            ok = run_action(ctx, step, log, env) if "uses" in step else run_script(ctx, step, step_env, log, summary)
            log.flush()
            if not ok:
                log.write(f"::: {name}: failed\n"); failed = True
    outputs = {k: ctx.substitute(v) for k, v in (job.get("outputs") or {}).items()}
    return ("failure" if failed else "success"), outputs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workflow")
    p.add_argument("--workdir", required=True)
    p.add_argument("--run-dir", required=True)
    p.add_argument("--event", required=True)
    p.add_argument("--ref", default="refs/heads/dev")
    p.add_argument("--sha", default="")
    p.add_argument("--input", action="append", default=[])
    p.add_argument("--secrets-file")
    p.add_argument("--aws-credentials")
    args = p.parse_args()
    args.workdir, args.run_dir = os.path.abspath(args.workdir), os.path.abspath(args.run_dir)
    workflow = yaml.safe_load(open(args.workflow, encoding="utf-8"))
    secrets = {}
    if args.secrets_file:
        for line in open(args.secrets_file, encoding="utf-8").read().splitlines():
            if line:
                k, _, v = line.partition("=")
                secrets[k] = v
    ctx = Context(args, workflow, secrets)
    wf_env = {k: ctx.substitute(v) for k, v in (workflow.get("env") or {}).items()}
    results = {}
    for job_id, job in workflow["jobs"].items():
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        for n in needs:
            if n not in results:
                raise Unsupported(f"job {job_id} needs {n}, which does not come before it")
        ctx.needs = {n: {"outputs": results[n][1]} for n in needs}
        if any(results[n][0] != "success" for n in needs) or not ctx.condition(job.get("if", "success()"), False):
            results[job_id] = ("skipped", {})
        else:
            results[job_id] = run_job(ctx, job_id, job, wf_env)
        print(f"run_workflow: {job_id}: {results[job_id][0]}", file=sys.stderr)
    with open(os.path.join(args.run_dir, "result.json"), "w") as f:
        json.dump({"jobs": {k: v[0] for k, v in results.items()}, "outputs": {k: v[1] for k, v in results.items()}},
                  f, indent=2)
    return 1 if any(v[0] == "failure" for v in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
