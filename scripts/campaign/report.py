"""The campaign's report: report.json (everything), report.md (for people)
and timeline.svg (faults as bars, every truck's answer as a tick: green a
rule decided, red rule 4 or nothing)."""
import html
import json


def fault_windows(events):
    open_faults, windows = {}, []
    for e in events:
        if e["kind"] == "fault_start":
            open_faults[e["fault"]] = e
        elif e["kind"] == "fault_end" and e["fault"] in open_faults:
            start = open_faults.pop(e["fault"])
            windows.append({"fault": e["fault"], "detail": start["detail"], "start": start["t"], "end": e["t"]})
    return windows


def answers(events):
    """(time, lane, decided-by-a-rule) for every truck the workload saw answered or not."""
    out = []
    for e in events:
        if e["kind"] == "shown":
            out.append((e["t"], e["lane"], e["phase"] == "decided"))
        elif e["kind"] in ("no_answer", "lane_unavailable", "arrive_failed"):
            out.append((e["t"], e["lane"], False))
    return out


def availability_by_fault(events):
    windows = fault_windows(events)
    ticks = answers(events)
    rows = []
    for w in windows:
        inside = [ok for t, _, ok in ticks if w["start"] <= t <= w["end"] + 2]
        rows.append({**w, "trucks": len(inside),
                     "availability": round(sum(inside) / len(inside), 3) if inside else None})
    quiet = [ok for t, _, ok in ticks if not any(w["start"] <= t <= w["end"] + 2 for w in windows)]
    return rows, (round(sum(quiet) / len(quiet), 3) if quiet else None), len(quiet)


def svg(events, duration, lanes):
    width, left, row = 1000, 130, 16
    windows = fault_windows(events)
    kinds = sorted({w["fault"] for w in windows})
    height = 40 + row * (len(kinds) + len(lanes)) + 30
    x = lambda t: left + (width - left - 10) * t / max(duration, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="11"><rect width="100%" height="100%" fill="white"/>',
             f'<text x="{left}" y="14">faults (bars) and every truck\'s answer (green: a rule decided; red: rule 4 '
             f'or none)</text>']
    y = 30
    for kind in kinds:
        parts.append(f'<text x="4" y="{y + 11}">{html.escape(kind)}</text>')
        for w in windows:
            if w["fault"] == kind:
                parts.append(f'<rect x="{x(w["start"]):.1f}" y="{y + 2}" width="{max(x(w["end"]) - x(w["start"]), 1):.1f}" '
                             f'height="{row - 4}" fill="#e8a33d"><title>{html.escape(w["detail"])}</title></rect>')
        y += row
    for lane in lanes:
        parts.append(f'<text x="4" y="{y + 11}">{html.escape(lane)}</text>')
        for t, where, ok in answers(events):
            if where == lane:
                parts.append(f'<rect x="{x(t):.1f}" y="{y + 2}" width="2" height="{row - 4}" '
                             f'fill="{"#2e8b57" if ok else "#d0342c"}"/>')
        y += row
    for s in range(0, int(duration) + 1, max(int(duration) // 10, 1)):
        parts.append(f'<text x="{x(s):.1f}" y="{y + 16}" text-anchor="middle">{s} s</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def write(out_dir, summary, events, violations, duration, lanes):
    rows, quiet, quiet_trucks = availability_by_fault(events)
    summary = {**summary, "availability_outside_faults": quiet, "trucks_outside_faults": quiet_trucks,
               "faults": rows, "violations": [v.as_dict() for v in violations]}
    with open(f"{out_dir}/report.json", "w") as f:
        json.dump(summary, f, indent=1, default=str)
    with open(f"{out_dir}/timeline.svg", "w") as f:
        f.write(svg(events, duration, lanes))
    lines = [f"# Fault campaign, seed {summary['seed']}, {summary['minutes']} min", "",
             f"- operations: {summary['operations']}",
             f"- faults injected: {sum(summary['fault_counts'].values())} ({summary['fault_counts']})",
             f"- violations: {len(violations)}",
             f"- availability (arrivals decided by a rule, lane journals): {summary['figures'].get('availability')} "
             f"({summary['figures'].get('decided_by_rule')} by a rule, {summary['figures'].get('rule4')} rule 4)",
             f"- availability outside faults (workload's view): {quiet} over {quiet_trucks} trucks", "",
             "| fault | what | from | to | trucks | availability |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['fault']} | {r['detail']} | {r['start']:.0f} s | {r['end']:.0f} s | {r['trucks']} | "
                     f"{r['availability']} |")
    if violations:
        lines += ["", "## Violations", ""]
        for v in violations[:50]:
            lines.append(f"- **{v.check}** {v.what}")
    lines += ["", "![timeline](timeline.svg)", ""]
    with open(f"{out_dir}/report.md", "w") as f:
        f.write("\n".join(lines))
    return summary
