#!/usr/bin/python3
"""A make-believe Slurm for the cluster executor's fault paths that a one-node cluster cannot
produce on demand (a node failing, preemption, a requeue, a time-out within seconds, a lost
sbatch reply). Linked as sbatch, squeue, sacct, scontrol, scancel and sinfo; its state lives in
$FAKE_SLURM. Time is squeue calls: each call moves every job one step, PENDING → RUNNING → ended.
An ending task runs its part of the batch script then and there, unless its fate kills it first.

Files in $FAKE_SLURM the test writes:
  task_fates    lines "INSTANCE FATE": what happens to the next task that computes INSTANCE: ok,
                requeue, TIMEOUT, NODE_FAIL, PREEMPTED, CANCELLED or vanish (never runs, and Slurm
                forgets it); a line is used once, and a task no line speaks of is ok
  sbatch_fates  a fate per sbatch call: ok, lost-reply (submits, yet fails as a time-out would),
                down (fails without submitting)
  no_accounting sacct answers as it does where accounting is off
  cpus          what sinfo reports (default 2)
  max_array_size  Slurm's MaxArraySize (default 1001): sbatch refuses larger arrays
Files it writes: calls (each command line), env-<job> (SLURM_* variables sbatch saw), sbatch-<job>
(the options its #SBATCH lines gave, a line "name=value" each), <log> of each task as the
script's --output names it.
"""
import fcntl, json, os, re, shlex, subprocess, sys

HOME = os.environ["FAKE_SLURM"]
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED"}


def path(name):
    return os.path.join(HOME, name)


def pop_fate(name, instances=None):
    """The first line of file `name` (for instances: the first naming one of them), removed."""
    try:
        with open(path(name)) as f:
            lines = [l.strip() for l in f if l.strip()]
    except FileNotFoundError:
        return "ok"
    for k, line in enumerate(lines):
        if instances is None or line.rsplit(" ", 1)[0] in instances:
            with open(path(name), "w") as f:
                f.write("".join(l + "\n" for l in lines[:k] + lines[k + 1:]))
            return line.rsplit(" ", 1)[-1]
    return "ok"


def load():
    try:
        with open(path("state.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"next": 1, "jobs": {}}


def save(state):
    with open(path("state.json.tmp"), "w") as f:
        json.dump(state, f)
    os.replace(path("state.json.tmp"), path("state.json"))


def sbatch_options(script):
    """The --name=value options of a script's #SBATCH lines, read as sbatch reads them: words
    split and unquoted as a shell would, up to the first line that is not a comment."""
    opt = {}
    for line in script.split("\n")[1:]:
        if line.startswith("#SBATCH "):
            for word in shlex.split(line[len("#SBATCH "):]):
                name, _, value = word.partition("=")
                opt[name[2:]] = value
        elif line.strip() and not line.startswith("#"):
            break
    return opt


def sbatch(args, state):
    script_path = args[-1]
    script = open(script_path).read()
    opt = sbatch_options(script)
    fate = pop_fate("sbatch_fates")
    if fate == "down":
        sys.stderr.write("sbatch: error: Batch job submission failed: Unable to contact slurm controller\n")
        return 1
    last = int(opt.get("array", "0-0").split("-")[1])
    if last >= max_array_size():
        sys.stderr.write("sbatch: error: Batch job submission failed: Invalid job array specification\n")
        return 1
    jid = str(state["next"])
    state["next"] += 1
    with open(path("env-" + jid), "w") as f:
        f.write("".join(f"{k}={v}\n" for k, v in sorted(os.environ.items()) if k.startswith("SLURM_")))
    with open(path("sbatch-" + jid), "w") as f:
        f.write("".join(f"{k}={v}\n" for k, v in opt.items()))
    for t in range(last + 1):
        branch = re.search(rf"^{t}\) (.*?) ;;$", script, re.M | re.S).group(1)
        words = shlex.split(branch.replace("\\\n", " "))
        instances = [words[k + 1] for k, w in enumerate(words) if w == "--instance"]
        state["jobs"][f"{jid}_{t}"] = {
            "name": opt["job-name"], "comment": opt.get("comment", ""), "state": "PENDING",
            "fate": pop_fate("task_fates", instances),
            "script": script_path, "task": t, "job": jid, "cpus": opt.get("cpus-per-task", "1"),
            "log": opt["output"].replace("%A", jid).replace("%a", str(t)), "exit": "0:0"}
    if fate == "lost-reply":
        sys.stderr.write("sbatch: error: Batch job submission failed: Socket timed out on send/recv operation\n")
        return 1
    print(jid)
    return 0


def end(task):
    """What happens to a running task at its next step."""
    fate = task["fate"]
    if fate == "requeue":  # back to the queue, as Slurm requeues a job whose node went away
        task["fate"] = "ok"
        task["state"] = "PENDING"
        return
    if fate in FINAL:  # killed before it wrote anything
        task["state"] = fate
        task["exit"] = "0:15"
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_") and k != "FAKE_SLURM"}
    env.update(SLURM_JOB_ID=task["job"], SLURM_ARRAY_JOB_ID=task["job"], SLURM_ARRAY_TASK_ID=str(task["task"]),
               SLURM_CPUS_PER_TASK=task["cpus"])
    with open(task["log"], "w") as log:
        code = subprocess.run(["/bin/bash", task["script"]], env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    task["state"] = "COMPLETED" if code == 0 else "FAILED"
    task["exit"] = f"{code}:0"


def squeue(args, state):
    names = next(a.split("=", 1)[1] for a in args if a.startswith("--name=")).split(",")
    for tid, task in state["jobs"].items():
        if task["name"] not in names or task["state"] in FINAL or task["fate"] == "vanish":
            continue
        if task["state"] == "PENDING":
            task["state"] = "RUNNING"
        else:
            end(task)
    for tid, task in state["jobs"].items():
        if task["name"] in names and task["state"] not in FINAL and task["fate"] != "vanish":
            print(f"{tid}|{task['state']}|{task['comment']}|None")
    return 0


def known(tid, state):
    task = state["jobs"].get(tid)
    return task if task and task["fate"] != "vanish" else None


def sacct(args, state):
    if os.path.exists(path("no_accounting")):
        sys.stderr.write("sacct: error: Slurm accounting storage is disabled\n")
        return 1
    task = known(args[args.index("-j") + 1], state)
    if task:
        print(f"{args[args.index('-j') + 1]}|{task['state']}|{task['exit']}")
    return 0


def max_array_size():
    return int(open(path("max_array_size")).read()) if os.path.exists(path("max_array_size")) else 1001


def scontrol(args, state):
    if args[:2] == ["show", "config"]:
        print(f"MaxArraySize            = {max_array_size()}\nMaxJobCount             = 10000")
        return 0
    tid = args[2]
    task = known(tid, state)
    if not task:
        sys.stderr.write("slurm_load_jobs error: Invalid job id specified\n")
        return 1
    print(f"JobId={task['job']} ArrayJobId={task['job']} ArrayTaskId={task['task']} JobName={task['name']} "
          f"JobState={task['state']} Reason=None ExitCode={task['exit']}")
    return 0


def scancel(args, state):
    for tid in args:
        if tid in state["jobs"] and state["jobs"][tid]["state"] not in FINAL:
            state["jobs"][tid]["state"] = "CANCELLED"
    return 0


def sinfo(args, state):
    cpus = open(path("cpus")).read().strip() if os.path.exists(path("cpus")) else "2"
    print(f"node1|{cpus}|debug*")  # one node in two partitions: its CPUs count once
    print(f"node1|{cpus}|long")
    return 0


def main():
    command = os.path.basename(sys.argv[0])
    with open(path("lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(path("calls"), "a") as f:
            f.write(" ".join([command] + sys.argv[1:]) + "\n")
        state = load()
        code = {"sbatch": sbatch, "squeue": squeue, "sacct": sacct, "scontrol": scontrol, "scancel": scancel,
                "sinfo": sinfo}[command](sys.argv[1:], state)
        save(state)
    return code


sys.exit(main())
