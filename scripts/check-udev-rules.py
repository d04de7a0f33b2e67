#!/usr/bin/env python3
"""Syntax check of udev rules files, for systems whose udevadm has no `verify`
(systemd before 254, e.g. Debian 12). It follows the grammar of udev(7) as of
systemd 252: comma-separated KEY[{attr}]OP"value" pairs; which keys match and
which assign; which operators each key takes; which keys need an {attr}; the
%-substitutions in values; GOTO targets that exist. It also insists that a
file setting SYSTEMD_WANTS tags the device for systemd, without which the
wants are ignored.

It cannot know what a device will carry at run time; udevadm verify and
`udevadm test` on the target do more. Usage:

    check-udev-rules.py FILE...      exit 1 and name file:line for each problem
    check-udev-rules.py --self-test  show that known-bad rules are refused
"""
import re
import sys

MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER",
              "DRIVERS", "ATTRS", "TAGS", "TEST", "PROGRAM", "RESULT", "CONST"}
ASSIGN_ONLY = {"OWNER", "GROUP", "MODE", "SECLABEL", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}
BOTH = {"NAME", "SYMLINK", "ATTR", "SYSCTL", "ENV", "TAG"}
NEEDS_ATTR = {"ATTR", "ATTRS", "SYSCTL", "ENV", "CONST", "SECLABEL", "IMPORT"}
MAY_HAVE_ATTR = NEEDS_ATTR | {"RUN", "TEST"}
ADD_OK = {"SYMLINK", "TAG", "RUN", "ENV", "OPTIONS", "SECLABEL"}
REMOVE_OK = {"SYMLINK", "TAG", "RUN"}
FINAL_OK = {"NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "RUN", "SECLABEL", "TAG", "OPTIONS", "ENV"}
ATTR_VALUES = {
    "CONST": {"arch", "virt"},
    "IMPORT": {"program", "builtin", "file", "db", "cmdline", "parent"},
    "RUN": {"program", "builtin"},
}
ACTIONS = {"add", "remove", "change", "move", "online", "offline", "bind", "unbind"}
# %-substitutions (udev(7) "String substitutions"); those in BRACED need {name}.
SUBSTITUTIONS = set("knpbMmscEPNr%")
BRACED = set("sE")
DOLLAR = {"kernel", "number", "devpath", "id", "driver", "attr", "sysctl", "env", "major", "minor",
          "result", "parent", "name", "links", "root", "sys", "devnode"}

PAIR = re.compile(r'\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*(e?)"((?:[^"\\]|\\.)*)"\s*')


def check_value(key, value, problems):
    i = 0
    while i < len(value):
        c = value[i]
        if c == "%":
            if i + 1 >= len(value) or value[i + 1] not in SUBSTITUTIONS:
                problems.append(f"{key}: '%' must be followed by one of {''.join(sorted(SUBSTITUTIONS))} in \"{value}\"")
                return
            if value[i + 1] in BRACED and not value[i + 2:i + 3] == "{":
                problems.append(f"{key}: %{value[i + 1]} needs a {{name}} in \"{value}\"")
                return
            if value[i + 1] in BRACED and "}" not in value[i + 2:]:
                problems.append(f"{key}: unclosed %{value[i + 1]}{{ in \"{value}\"")
                return
            i += 2
        elif c == "$":
            m = re.match(r"\$(\$|[a-z]+)", value[i:])
            if not m or (m.group(1) != "$" and m.group(1) not in DOLLAR):
                problems.append(f"{key}: unknown substitution in \"{value}\" (write $$ for a dollar)")
                return
            i += len(m.group(0))
        else:
            i += 1


def check_pair(key, attr, op, value, problems):
    known = MATCH_ONLY | ASSIGN_ONLY | BOTH
    if key not in known:
        problems.append(f"unknown key {key}")
        return
    if key in NEEDS_ATTR and not attr:
        problems.append(f"{key} needs {{...}}, e.g. {key}{{name}}")
    if attr and key not in MAY_HAVE_ATTR:
        problems.append(f"{key} takes no {{{attr}}}")
    if attr and key in ATTR_VALUES and attr not in ATTR_VALUES[key]:
        problems.append(f"{key}{{{attr}}}: expected one of {', '.join(sorted(ATTR_VALUES[key]))}")
    matching = op in ("==", "!=")
    if matching and key in ASSIGN_ONLY:
        problems.append(f"{key} can only be assigned, not matched with {op}")
    if not matching and key in MATCH_ONLY:
        problems.append(f"{key} can only be matched (== or !=), not assigned with {op}")
    if op == "+=" and key not in ADD_OK:
        problems.append(f"{key} does not take +=")
    if op == "-=" and key not in REMOVE_OK:
        problems.append(f"{key} does not take -=")
    if op == ":=" and key not in FINAL_OK:
        problems.append(f"{key} does not take :=")
    if key == "ACTION" and value not in ACTIONS and not any(ch in value for ch in "*?[|"):
        problems.append(f"ACTION==\"{value}\": expected one of {', '.join(sorted(ACTIONS))}")
    if key == "MODE" and not re.fullmatch(r"0?[0-7]{3}", value):
        problems.append(f"MODE=\"{value}\": expected octal like 0660")
    if key in ("OWNER", "GROUP") and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*\$?|[0-9]+|%[a-zA-Z].*|\$.*", value):
        problems.append(f"{key}=\"{value}\": expected a name or a number")
    if key in ("LABEL", "GOTO") and not value:
        problems.append(f"{key} needs a name")
    check_value(key, value, problems)


def logical_lines(text):
    """Yields (first line number, text) with backslash continuations joined."""
    pending, start = "", None
    for number, line in enumerate(text.splitlines(), 1):
        if start is None:
            start = number
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        yield start, pending + line
        pending, start = "", None
    if pending:
        yield start, pending


def check_text(name, text):
    problems, labels, gotos = [], set(), []
    wants, tagged = None, False
    for number, line in logical_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{name}:{number}"
        rest, pairs = stripped, []
        while rest:
            m = PAIR.match(rest)
            if not m:
                problems.append(f"{where}: cannot parse near '{rest[:40]}' (KEY==\"value\" pairs, comma-separated)")
                break
            pairs.append(m.groups())
            rest = rest[m.end():]
            if rest.startswith(","):
                rest = rest[1:]
                if not rest.strip():
                    problems.append(f"{where}: a comma ends the rule")
            elif rest:
                problems.append(f"{where}: missing ',' before '{rest[:40]}'")
                break
        for key, attr, op, _, value in pairs:
            found = []
            check_pair(key, attr, op, value, found)
            problems += [f"{where}: {p}" for p in found]
            if key == "LABEL":
                labels.add(value)
            if key == "GOTO":
                gotos.append((where, value))
            if key == "ENV" and attr == "SYSTEMD_WANTS" and op != "==" and op != "!=":
                wants = wants or where
            if key == "TAG" and op in ("+=", "=", ":=") and "systemd" in value.split():
                tagged = True
    for where, label in gotos:
        if label not in labels:
            problems.append(f"{where}: GOTO=\"{label}\" has no LABEL=\"{label}\" in this file")
    if wants and not tagged:
        problems.append(f"{wants}: SYSTEMD_WANTS is ignored unless the device gets TAG+=\"systemd\"")
    return problems


SELF_TEST = {
    # Each must be refused: typical mistakes.
    'KERNEL="gpiochip*", GROUP="gpio"': "assigned",
    'SUBSYSTEM=="gpio" GROUP="gpio"': "missing ','",
    'SUBSYSTEM=="gpio", GROUP=="gpio"': "only be assigned",
    'SUBSYSTEM=="tty", MODE="660x"': "octal",
    'SUBSYSTEM=="tty", SYMLINK+="lanekiosk/%Q"': "'%'",
    'SUBSYSTEM=="tty", SYMLINK+="lanekiosk/%E"': "needs a {name}",
    'ENV{X}=="1", GOTO="nowhere"': "no LABEL",
    'SUBSYSTEM=="tty", ENV{SYSTEMD_WANTS}+="laned@x.service"': "TAG+=",
    'SUBSYSTM=="tty", GROUP="dialout"': "unknown key",
    'ENV=="x", GROUP="dialout"': "needs {...}",
    'ACTION=="plug", GROUP="dialout"': "ACTION",
    'SUBSYSTEM=="tty", GROUP="dialout",': "comma ends",
}
SELF_TEST_GOOD = (
    'ACTION=="remove", GOTO="end"\n'
    'SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"\n'
    'SUBSYSTEM=="tty", ENV{ID_SERIAL_SHORT}=="A1", \\\n'
    '  SYMLINK+="lanekiosk/%E{LANE}/link", TAG+="systemd", ENV{SYSTEMD_WANTS}+="laned@%E{LANE}.service"\n'
    'LABEL="end"\n'
)


def self_test():
    failures = []
    for rule, expected in SELF_TEST.items():
        problems = check_text("self-test", rule + "\n")
        if not any(expected in p for p in problems):
            failures.append(f"not refused as expected ({expected!r}): {rule}  -> {problems}")
    good = check_text("self-test", SELF_TEST_GOOD)
    if good:
        failures.append(f"a valid file was refused: {good}")
    for f in failures:
        print(f"check-udev-rules self-test: {f}", file=sys.stderr)
    return not failures


def main(argv):
    if argv == ["--self-test"]:
        return 0 if self_test() else 1
    if not argv:
        print(__doc__, file=sys.stderr)
        return 64
    status = 0
    if not self_test():
        return 1
    for path in argv:
        with open(path, encoding="utf-8") as f:
            problems = check_text(path, f.read())
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{path}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        status |= bool(problems)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
