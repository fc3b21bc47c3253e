"""bench/run-all's report: JSON of every run with the planner's estimates, the
benchmark table (printed, and written into docs/benchmarks.md between the
run-all markers). Run from the repository's root, as bench/run-all does.
    all_table.py WORK OUT.json [BOARD]"""
import datetime
import glob
import json
import os
import platform
import re
import sys

work, out_path, board = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "")
MiB = 2 ** 20


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def status_of(log):
    lines = [l for l in log.splitlines() if "error" in l]
    if not lines:
        return "failed"
    last = lines[-1]
    if "out-of-memory killer" in last:
        return "killed at the board's limit"
    if "crossed the budget" in last:
        return "over budget"
    return "failed: " + last.split("error: ", 1)[-1][:120]


# --replan: the runs' metrics and logs come from the previous OUT.json, only the
# plans are new (a changed planner, the same measurements).
if os.environ.get("REPLAN"):
    for old in load(out_path)["runs"]:
        run_id = f'{old["preset"]}.{old["strategy"]}.{old["devices"]}.{old["backend"]}'
        with open(f"{work}/{run_id}.log", "w") as f:
            f.write(old.get("log_tail", ""))
        metrics = old.get("metrics")
        if not metrics and old.get("status") == "ok":  # a JSON from before metrics were kept
            metrics = {"last_test_acc": old["test_acc"],
                       "epochs": [{"train_seconds": old["epoch_seconds"], "steps": 1,
                                   "compute_seconds": old["compute_seconds_per_batch"]}],
                       "per_device": [{"rank": r["rank"], "role": r["role"],
                                       "peak_rss_bytes": r["peak_mib"] * MiB, "busy_seconds": 0,
                                       "training_bytes_sent": old["mb_sent_per_device_per_epoch"] * 1e6}
                                      for r in old["ranks"]]}
        if metrics:
            with open(f"{work}/{run_id}.json", "w") as f:
                json.dump(metrics, f)
        if old.get("wall_seconds") is not None:
            with open(f"{work}/{run_id}.wall", "w") as f:
                f.write(str(old["wall_seconds"]))

runs = []
for plan_path in sorted(glob.glob(f"{work}/*.plan")):
    run_id = os.path.basename(plan_path)[: -len(".plan")]
    preset, strategy, devices, backend = run_id.split(".")
    metrics = load(f"{work}/{run_id}.json")
    plan = load(plan_path)
    planned = plan["strategies"][0] if plan else None
    log = open(f"{work}/{run_id}.log").read() if os.path.exists(f"{work}/{run_id}.log") else ""
    run = {"preset": preset, "strategy": strategy, "devices": int(devices), "backend": backend,
           "status": "ok" if metrics else status_of(log),
           "log_tail": "\n".join(log.splitlines()[-5:]), "metrics": metrics,
           "wall_seconds": int(open(f"{work}/{run_id}.wall").read()) if os.path.exists(f"{work}/{run_id}.wall") else None}
    if planned:
        run["planned_fits"] = planned["fits"] if plan.get("budget_bytes") else None
        run["planned_largest_peak_mib"] = planned["largest_peak_bytes"] / MiB
        run["planned_mb_sent_per_epoch"] = planned["largest_bytes_sent_per_epoch"] / 1e6
        run["planned_seconds_per_epoch"] = planned.get("seconds_per_epoch")
    if metrics:
        e = metrics["epochs"]
        steps = sum(x["steps"] for x in e)
        # A pipeline's compute is its stages' busy time; the busiest stage bounds it.
        compute = sum(x["compute_seconds"] for x in e) or max(d["busy_seconds"] for d in metrics["per_device"])
        run.update({
            "test_acc": metrics["last_test_acc"],
            "epoch_seconds": sum(x["train_seconds"] for x in e) / len(e),
            "compute_seconds_per_batch": compute / max(1, steps),
            "largest_peak_mib": max(d["peak_rss_bytes"] for d in metrics["per_device"]) / MiB,
            "mb_sent_per_device_per_epoch": max(d["training_bytes_sent"] for d in metrics["per_device"]) / len(e) / 1e6,
            "ranks": [{"rank": d["rank"], "role": d["role"], "peak_mib": d["peak_rss_bytes"] / MiB,
                       "planned_mib": planned["ranks"][i]["peak_bytes"] / MiB if planned and i < len(planned["ranks"]) else None}
                      for i, d in enumerate(metrics["per_device"])],
        })
        # On boards, mapped graph pages another cgroup read first are not charged
        # to the worker (docs/emulation.md, "Memory-mapped files and the page
        # cache"): a run can finish with a peak RSS no board of that size would hold.
        limit = plan.get("budget_bytes") if plan and board else None
        if limit and run["largest_peak_mib"] > limit / MiB:
            run["status"] = "ok, but peak RSS over the board's limit (shared page cache)"
        if run.get("planned_seconds_per_epoch"):
            run["time_error"] = run["planned_seconds_per_epoch"] / run["epoch_seconds"] - 1
        errors = [r["planned_mib"] / r["peak_mib"] - 1 for r in run["ranks"] if r["planned_mib"]]
        if errors:
            run["plan_error_worst"] = max(errors, key=abs)
    runs.append(run)

order = {"single": 0, "data": 1, "pipeline": 2, "partition": 3}
runs.sort(key=lambda r: (r["preset"] != "reddit-mini", order[r["strategy"]], r["devices"], r["backend"]))
fitting = [r for r in runs if r["status"] == "ok"]  # and within the board's limit
fastest = min(fitting, key=lambda r: r["epoch_seconds"]) if fitting else None
out = {
    "benchmark": "all" + (f"-{board}" if board else ""),
    "date": datetime.date.today().isoformat(),
    "machine": f"{platform.machine()}, {os.cpu_count()} cores, all devices share them",
    "emulated_board": board or None,
    "settings": "GraphSAGE 2x256, fanouts 25,10, batch 1024 (reddit.py); --eval-every 0",
    # The rates the plans were timed with (plan --profile FILE --local), if any.
    "profile": load(os.environ["PROFILE"]) if os.environ.get("PROFILE") else None,
    "runs": runs,
    "fastest_that_ran": fastest and f'{fastest["preset"]} {fastest["strategy"]} {fastest["devices"]} {fastest["backend"]}',
}
# Per graph: what the planner recommends (fits, fewest bytes) and what ran fastest
# within the limit, among the runs on the most devices.
name = lambda r: f'{r["strategy"]} on {r["devices"]}'
out["recommended_vs_fastest"] = {}
for preset in sorted({r["preset"] for r in runs}):
    mine = [r for r in runs if r["preset"] == preset]
    planned = [r for r in mine if r.get("planned_fits")]
    ran = [r for r in mine if r["status"] == "ok"]
    # Timed plans recommend the fastest that fits, untimed ones the fewest bytes.
    planner_key = lambda r: (r.get("planned_seconds_per_epoch") or 0, r["planned_mb_sent_per_epoch"])
    out["recommended_vs_fastest"][preset] = {
        "planner_recommends": name(min(planned, key=planner_key)) if planned else None,
        "fastest_within_limit": name(min(ran, key=lambda r: r["epoch_seconds"])) if ran else None}
with open(out_path, "w") as f:
    json.dump(out, f, indent=2)

head = ("| graph | strategy | devices | backend | test acc | s/epoch (plan, error) | largest peak MiB (plan) "
        "| MB sent/device/epoch | compute s/batch |\n|---|---|---|---|---|---|---|---|---|\n")
rows = []
for r in runs:
    plan = f' ({r["planned_largest_peak_mib"]:.0f})' if "planned_largest_peak_mib" in r else ""
    timed = f' ({r["planned_seconds_per_epoch"]:.1f}, {100 * r["time_error"]:+.0f} %)' if "time_error" in r else ""
    if "metrics" in r and r["metrics"] and r["status"] != "ok":
        rows.append(f'| {r["preset"]} | {r["strategy"]} | {r["devices"]} | {r["backend"]} | {r["test_acc"]:.4f} '
                    f'| {r["epoch_seconds"]:.1f}{timed} | {r["largest_peak_mib"]:.0f}{plan}: {r["status"]} '
                    f'| {r["mb_sent_per_device_per_epoch"]:.1f} | {r["compute_seconds_per_batch"] or "–":.3} |')
        continue
    if r["status"] != "ok":
        rows.append(f'| {r["preset"]} | {r["strategy"]} | {r["devices"]} | {r["backend"]} | {r["status"]} | | –{plan} | | |')
        continue
    rows.append(f'| {r["preset"]} | {r["strategy"]} | {r["devices"]} | {r["backend"]} | {r["test_acc"]:.4f} '
                f'| {r["epoch_seconds"]:.1f}{timed} | {r["largest_peak_mib"]:.0f}{plan} '
                f'| {r["mb_sent_per_device_per_epoch"]:.1f} | {r["compute_seconds_per_batch"] or "–":.3} |')
where = f'{out["date"]}, {out["machine"]}' + (f"; every worker an emulated `{board}` board" if board else "; loopback")
if out["profile"]:
    where += "; s/epoch (plan): `edgegnn plan --profile --local`, rates from `edgegnn calibrate` here"
if os.environ.get("BENCH_NOTE"):
    where += "; " + os.environ["BENCH_NOTE"]
versus = "".join(f'\n{p}: the planner recommends {v["planner_recommends"]}; fastest within the limit: {v["fastest_within_limit"]}.'
                 for p, v in out["recommended_vs_fastest"].items()) if board else ""
table = f"Measured by `bench/run-all{' --emulate ' + board if board else ''}` on {where}:\n\n" + head + "\n".join(rows) + "\n" + versus + ("\n" if versus else "")
print(table)

TABLES = "docs/benchmarks.md"
marker = "run-all" + (f"-{board}" if board else "")
doc = open(TABLES).read()
pattern = re.compile(rf"(<!-- {re.escape(marker)}:begin -->\n).*?(<!-- {re.escape(marker)}:end -->)", re.S)
if pattern.search(doc):
    with open(TABLES, "w") as f:
        f.write(pattern.sub(lambda m: m.group(1) + table + m.group(2), doc))
else:
    print(f"all_table.py: {TABLES} has no {marker} markers; table not written there", file=sys.stderr)
