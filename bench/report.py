#!/usr/bin/env python3
"""Prints the tables of bench/run.sh from BENCH_DIR/{runs,sizes,env}.tsv and
writes BENCH_DIR/results.json. Standard library only. Reports; asserts nothing.

usage: python3 bench/report.py BENCH_DIR
"""
import csv
import json
import os
import re
import statistics
import sys

MIB = 1024 * 1024
GOAL_TIME_RATIO = 0.5
GOAL_SIZE_RATIO = 0.70
GOAL_RSS_MIB = 256
PEER = "tar|zstd|age"  # the peer the time goals are stated against


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def size_key(case):
    m = re.fullmatch(r"(\d+)([KMGT])", case)
    if not m:
        return (1, case)
    return (0, int(m.group(1)) * 1024 ** "KMGT".index(m.group(2)))


def fmt(x, nd=2):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{x:.{nd}f}"


def table(title, head, rows, note=None, left=(0,)):
    out = [title]
    cols = list(zip(*([head] + rows))) if rows else [[h] for h in head]
    width = [max(len(str(c)) for c in col) for col in cols]
    line = lambda r: "  ".join(
        str(c).ljust(w) if i in left else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, width))).rstrip()
    out.append(line(head))
    out.append("  ".join("-" * w for w in width))
    out += [line(r) for r in rows]
    if note:
        out.append(note)
    return "\n".join(out)


def main():
    bench = sys.argv[1] if len(sys.argv) > 1 else "bench-out"
    runs = read_tsv(os.path.join(bench, "runs.tsv"))
    sizes = read_tsv(os.path.join(bench, "sizes.tsv"))
    env = {}
    with open(os.path.join(bench, "env.tsv")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            env[k] = v

    # --- summaries: median of successful runs per (case, phase, tool)
    summary = {}
    for r in runs:
        key = (r["case"], r["phase"], r["tool"])
        s = summary.setdefault(key, {"seconds": [], "rss_kib": [], "cpu_s": [], "other_cpu_s": [], "failed": 0})
        if r["rc"] != "0":
            s["failed"] += 1
            continue
        s["seconds"].append(float(r["seconds"]))
        s["rss_kib"].append(int(r["maxrss_kib"]))
        s["cpu_s"].append(float(r["user_s"]) + float(r["sys_s"]))
        s["other_cpu_s"].append(float(r.get("other_cpu_s") or 0))
    for s in summary.values():
        ok = bool(s["seconds"])
        s["median_s"] = statistics.median(s["seconds"]) if ok else None
        s["median_cpu_s"] = statistics.median(s["cpu_s"]) if ok else None
        s["peak_rss_mib"] = max(s["rss_kib"]) / 1024 if ok else None

    inputs, artefacts = {}, {}
    for s in sizes:
        if s["what"] == "input":
            inputs[s["case"]] = {"bytes": int(s["bytes"]), "files": int(s["files"])}
        else:
            artefacts[(s["case"], s["what"])] = int(s["bytes"])
    cases = sorted(inputs, key=size_key)
    headline = env.get("headline") if env.get("headline") in inputs else None

    def med(case, phase, tool):
        s = summary.get((case, phase, tool))
        return s["median_s"] if s else None

    def mbps(case, secs):
        return inputs[case]["bytes"] / secs / 1e6 if secs else None

    def ratio(a, b):
        return a / b if a and b else None

    out = []
    out.append("Airlock benchmark  {}  mode={} rounds={}".format(env.get("date"), env.get("mode"), env.get("rounds")))
    out.append("machine: {} x {} | {} RAM | {} | {}".format(
        env.get("nproc"), env.get("cpu"), env.get("mem_total"), env.get("os"), env.get("fs")))
    out.append("load avg (1/5/15 min): start {}  end {} | runtime {} s".format(
        env.get("load_start"), env.get("load_end"), env.get("runtime_s")))
    ok_runs = [r for r in runs if r["rc"] == "0"]
    wall = sum(float(r["seconds"]) for r in ok_runs)
    other = sum(float(r.get("other_cpu_s") or 0) for r in ok_runs)
    noise = other / wall if wall else 0.0
    env["other_cpu_per_wall_s"] = f"{noise:.3f}"
    out.append("other processes during the timed runs: {:.1f} CPU-s over {:.1f} s timed ({:.2f} of {} cores)".format(
        other, wall, noise, env.get("nproc")))
    noisy = {}
    for r in ok_runs:
        n = noisy.setdefault(r["case"], [0, 0])
        n[1] += 1
        if float(r.get("other_cpu_s") or 0) > 0.25 * max(float(r["seconds"]), 0.01):
            n[0] += 1
    env["noisy_runs"] = {c: f"{a}/{b}" for c, (a, b) in noisy.items()}
    out.append("runs during which others used > 0.25 core: " + ", ".join(
        f"{c} {noisy[c][0]}/{noisy[c][1]}" for c in sorted(noisy, key=size_key)))
    out.append("airlock: {} threads={} commit {}".format(env.get("airlock"), env.get("airlock_threads"),
                                                         env.get("airlock_commit")))
    out.append("")

    art_name = {"airlock": "airlock.bundle", PEER: "out.tar.zst.age", "restic": "restic.repo",
                "borg": "borg.repo"}
    result_tables = {}

    def phase_table(case, phase):
        tools = [k[2] for k in summary if k[0] == case and k[1] == phase]
        order = ["airlock", "airlock --threads 1", PEER, PEER + "+fsync", "restic", "borg", "cp -r"]
        tools.sort(key=lambda t: order.index(t) if t in order else 99)
        a = med(case, phase, "airlock")
        rows, js = [], []
        for t in tools:
            s = summary[(case, phase, t)]
            runs_s = " ".join(f"{x:.2f}" for x in s["seconds"]) + (f" +{s['failed']} failed" if s["failed"] else "")
            r = ratio(a, s["median_s"]) if t != "airlock" else None
            gib = inputs[case]["bytes"] / 2**30
            rows.append([t, runs_s, fmt(s["median_s"]), fmt(mbps(case, s["median_s"]), 0),
                         fmt(s["median_cpu_s"]), fmt(s["median_cpu_s"] / gib if s["median_cpu_s"] else None),
                         " ".join(f"{x:.1f}" for x in s["other_cpu_s"]),
                         fmt(s["peak_rss_mib"], 1),
                         fmt(r) if t != "airlock" else "-"])
            js.append({"tool": t, "runs_s": s["seconds"], "failed": s["failed"], "median_s": s["median_s"],
                       "mb_per_s": mbps(case, s["median_s"]), "median_cpu_s": s["median_cpu_s"],
                       "cpu_s_per_gib": s["median_cpu_s"] / gib if s["median_cpu_s"] else None,
                       "other_cpu_s": s["other_cpu_s"], "peak_rss_mib": s["peak_rss_mib"],
                       "airlock_over_tool": r})
        head = ["tool", "runs (s)", "median s", "MB/s", "cpu s", "cpu s/GiB", "other cpu s", "peak RSS MiB",
                "airlock/tool"]
        return rows, head, js

    if headline:
        mib = inputs[headline]["bytes"] / MIB
        for phase, goal in (("pack", "create"), ("install", "install")):
            rows, head, js = phase_table(headline, phase)
            result_tables[phase] = {"case": headline, "rows": js}
            out.append(table(f"{phase.upper()}: {headline} input ({mib:.0f} MiB, {inputs[headline]['files']} files)",
                             head, rows))
            out.append("")
        # --- threads: the same airlock with one worker, in the same rounds
        for phase, label in (("pack", "create"), ("install", "install")):
            one, dflt = med(headline, phase, "airlock --threads 1"), med(headline, phase, "airlock")
            if one and dflt:
                out.append(f"THREADS: {label} {headline}: --threads 1 {one:.2f} s, default ({env.get('nproc')} "
                           f"cores) {dflt:.2f} s: {one / dflt:.2f}x faster with every core")
                result_tables.setdefault("threads", {})[phase] = {"threads_1_s": one, "default_s": dflt,
                                                                  "speedup": one / dflt}
        out.append("")
        rows, js = [], []
        ib = inputs[headline]["bytes"]
        for t, what in art_name.items():
            b = artefacts.get((headline, what))
            if b is None:
                continue
            rows.append([t, f"{b:,}", fmt(b / MIB, 1), fmt(b / ib, 3)])
            js.append({"tool": t, "bytes": b, "ratio": b / ib})
        rows.insert(0, ["input", f"{ib:,}", fmt(ib / MIB, 1), "1.000"])
        result_tables["size"] = {"case": headline, "input_bytes": ib, "rows": js}
        out.append(table(f"SIZE: {headline} input (bytes stored / input bytes)",
                         ["what", "bytes", "MiB", "ratio"], rows))
        out.append("")

    # --- scaling
    rows, js = [], []
    for c in cases:
        cr, ir = med(c, "pack", "airlock"), med(c, "install", "airlock")
        pr, dr = med(c, "pack", PEER), med(c, "install", PEER)
        cs = summary.get((c, "pack", "airlock"), {})
        is_ = summary.get((c, "install", "airlock"), {})
        b = artefacts.get((c, "airlock.bundle"))
        row = {
            "case": c, "input_bytes": inputs[c]["bytes"], "files": inputs[c]["files"],
            "create_s": cr, "create_mb_s": mbps(c, cr), "create_rss_mib": cs.get("peak_rss_mib"),
            "peer_pack_s": pr, "pack_ratio": ratio(cr, pr),
            "install_s": ir, "install_mb_s": mbps(c, ir), "install_rss_mib": is_.get("peak_rss_mib"),
            "peer_install_s": dr, "install_ratio": ratio(ir, dr),
            "bundle_ratio": b / inputs[c]["bytes"] if b else None,
            "create_s_per_gib": cr / (inputs[c]["bytes"] / 2**30) if cr else None,
            "install_s_per_gib": ir / (inputs[c]["bytes"] / 2**30) if ir else None,
        }
        js.append(row)
        rows.append([c, fmt(inputs[c]["bytes"] / MIB, 0), str(inputs[c]["files"]),
                     fmt(cr), fmt(row["create_mb_s"], 0), fmt(row["create_rss_mib"], 1), fmt(pr), fmt(row["pack_ratio"]),
                     fmt(ir), fmt(row["install_mb_s"], 0), fmt(row["install_rss_mib"], 1), fmt(dr),
                     fmt(row["install_ratio"]), fmt(row["bundle_ratio"], 3)])
    result_tables["scaling"] = js
    out.append(table("SCALING: airlock against tar|zstd|age (medians; MB/s = 10^6 input bytes per second)",
                     ["case", "MiB", "files", "create s", "MB/s", "RSS MiB", "tar|zstd|age s", "ratio",
                      "install s", "MB/s", "RSS MiB", "age -d|zstd -d|tar s", "ratio", "bundle/in"], rows))
    out.append("")

    # --- goals
    goals = []

    def goal(name, value, limit, met, detail):
        goals.append({"goal": name, "value": value, "limit": limit, "met": met, "detail": detail})

    if headline:
        pr = ratio(med(headline, "pack", "airlock"), med(headline, "pack", PEER))
        goal("pack time / tar|zstd|age", pr, GOAL_TIME_RATIO, pr is not None and pr <= GOAL_TIME_RATIO,
             f"{headline}: airlock {fmt(med(headline, 'pack', 'airlock'))} s vs {fmt(med(headline, 'pack', PEER))} s")
        ir = ratio(med(headline, "install", "airlock"), med(headline, "install", PEER))
        goal("install time / age -d|zstd -d|tar", ir, GOAL_TIME_RATIO, ir is not None and ir <= GOAL_TIME_RATIO,
             f"{headline}: airlock {fmt(med(headline, 'install', 'airlock'))} s vs {fmt(med(headline, 'install', PEER))} s")
        b = artefacts.get((headline, "airlock.bundle"))
        sr = b / inputs[headline]["bytes"] if b else None
        z = artefacts.get((headline, "out.tar.zst.age"))
        goal("bundle bytes / input bytes", sr, GOAL_SIZE_RATIO, sr is not None and sr <= GOAL_SIZE_RATIO,
             f"{headline}: tar.zst.age gives {fmt(z / inputs[headline]['bytes'], 3) if z else '-'}")
    rss = [(c, p, summary[(c, p, "airlock")]["peak_rss_mib"]) for c in cases for p in ("pack", "install")
           if (c, p, "airlock") in summary and summary[(c, p, "airlock")]["peak_rss_mib"] is not None]
    if rss:
        worst = max(rss, key=lambda x: x[2])
        model_cases = [c for c in cases if size_key(c)[0] == 0]
        flat = []
        for p in ("pack", "install"):
            v = [summary[(c, p, "airlock")]["peak_rss_mib"] for c in model_cases if (c, p, "airlock") in summary
                 and summary[(c, p, "airlock")]["peak_rss_mib"] is not None]
            if len(v) >= 2:
                flat.append(f"{'create' if p == 'pack' else 'install'} {v[0]:.1f} -> {v[-1]:.1f} MiB "
                            f"({model_cases[0]} -> {model_cases[len(v) - 1]})")
        goal("peak RSS (create, install), MiB", worst[2], GOAL_RSS_MIB, worst[2] <= GOAL_RSS_MIB,
             f"largest: {worst[1]} {worst[0]}; " + "; ".join(flat))
    for key, label in (("create_s_per_gib", "create"), ("install_s_per_gib", "install")):
        v = [(r["case"], r[key]) for r in js if r[key] and size_key(r["case"])[0] == 0]
        if len(v) >= 2:
            spread = max(x for _, x in v) / min(x for _, x in v)
            goal(f"{label} linear in size (max/min s per GiB)", spread, None, None,
                 ", ".join(f"{c}: {x:.2f} s/GiB" for c, x in v))
    for r in js:
        if size_key(r["case"])[0] == 1 and r["files"] and r["create_s"] and r["install_s"]:
            n = r["files"]
            goal(f"{r['case']} ({n} files): ms per file, create / install",
                 f"{1000 * r['create_s'] / n:.2f} / {1000 * r['install_s'] / n:.2f}", None, None,
                 f"tar|zstd|age: {fmt(1000 * r['peer_pack_s'] / n if r['peer_pack_s'] else None)} / "
                 f"{fmt(1000 * r['peer_install_s'] / n if r['peer_install_s'] else None)} ms per file; "
                 f"{r['input_bytes'] / MIB:.0f} MiB in")
    rows = [[g["goal"], fmt(g["value"], 3), fmt(g["limit"]) if g["limit"] is not None else "report",
             {True: "met", False: "NOT met", None: "-"}[g["met"]], g["detail"]] for g in goals]
    out.append(table("GOALS", ["goal", "measured", "goal", "status", "detail"], rows, left=(0, 4)))
    out.append("")

    # --- what bounds the time goals: SHA-256 alone, at the measured rate
    sha_m = re.search(r"([\d.]+)k\s*$", env.get("ctx_sha256") or "")
    b = artefacts.get((headline, "airlock.bundle")) if headline else None
    if headline and sha_m and b:
        sha_rate = float(sha_m.group(1)) * 1000  # bytes per second (openssl's k = 1000 bytes)
        cores = int(env.get("nproc") or os.cpu_count() or 1)
        # create: chunk ids and whole files over the input, the volume hash over
        # the bundle; install (encrypted): chunk ids over the input only.
        hashed_by = {"pack": 2 * inputs[headline]["bytes"] + b, "install": inputs[headline]["bytes"]}
        out.append("BOUND: SHA-256 that airlock must do (create: chunk ids + whole files over the input, the "
                   "volume hash over the bundle; install: chunk ids over the input)")
        for phase, label in (("pack", "create"), ("install", "install")):
            peer = med(headline, phase, PEER)
            s_air = summary.get((headline, phase, "airlock"))
            if not peer or not s_air:
                continue
            hashed = hashed_by[phase]
            need = hashed / sha_rate
            budget = GOAL_TIME_RATIO * peer * cores
            out.append(f"  {label}: {hashed / 1e9:.2f} GB at {sha_rate / 1e6:.0f} MB/s = {need:.2f} CPU-s; "
                       f"the {GOAL_TIME_RATIO} goal allows {budget:.2f} CPU-s in all ({GOAL_TIME_RATIO} x "
                       f"{peer:.2f} s x {cores} cores); airlock used {fmt(s_air['median_cpu_s'])} CPU-s")
        out.append("")

    def openssl_mb(line):
        m = re.search(r"([\d.]+)k\s*$", line or "")
        return f"{float(m.group(1)) / 1000:.0f} MB/s" if m else line

    def after_colon(line):
        return (line or "").split(":", 1)[-1].strip() or None

    ctx = [("disk write, dd 2 GiB conv=fdatasync", after_colon((env.get("ctx_dd_write") or "").replace(" copied,", ":"))),
           ("SHA-256, 1 core (openssl speed -evp sha256, 1 MiB blocks)", openssl_mb(env.get("ctx_sha256"))),
           ("AES-256-GCM, 1 core (openssl speed -evp aes-256-gcm, 1 MiB blocks)", openssl_mb(env.get("ctx_aes256gcm"))),
           ("zstd -1, 1 thread, one shard (zstd -b1 -T1: ratio, compress, decompress)", after_colon(env.get("ctx_zstd1")))]
    out.append("CONTEXT")
    for k, v in ctx:
        out.append(f"  {k}: {v or '-'}")
    out.append("tools: " + "; ".join(f"{k} {env.get(k)}" for k in ("age", "zstd", "restic", "borg", "tar", "openssl")))
    out.append("disk free: start {}  end {}".format(env.get("disk_free_start"), env.get("disk_free_end")))
    if env.get("skipped_4G"):
        out.append("4G case skipped: " + env["skipped_4G"])
    text = "\n".join(out)
    print(text)

    results = {
        "env": env,
        "headline_case": headline,
        "inputs": inputs,
        "artefact_bytes": {f"{c}/{w}": b for (c, w), b in artefacts.items()},
        "tables": result_tables,
        "goals": goals,
        "summary": [{"case": c, "phase": p, "tool": t, **{k: v for k, v in s.items()}}
                    for (c, p, t), s in sorted(summary.items())],
        "runs": runs,
    }
    with open(os.path.join(bench, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    with open(os.path.join(bench, "report.txt"), "w") as f:
        f.write(text + "\n")
    print(f"\nwrote {os.path.join(bench, 'results.json')} and report.txt")


if __name__ == "__main__":
    main()
