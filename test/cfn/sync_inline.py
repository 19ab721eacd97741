#!/usr/bin/env python3
"""Keep the inline ZipFile of cfn/subnet-cidr-reservations-lambda.yaml equal to
cfn/lambda/subnet_cidr_reservation.py.

    python3 test/cfn/sync_inline.py           # exit 1 (and say so) when they differ
    python3 test/cfn/sync_inline.py --write   # copy the file into the template

The file is the source: edit it, then run --write. test_templates.py checks they
are equal, so a template edited by hand cannot drift unnoticed."""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(ROOT, "cfn", "subnet-cidr-reservations-lambda.yaml")
HANDLER = os.path.join(ROOT, "cfn", "lambda", "subnet_cidr_reservation.py")

def split_template(text):
    """(lines before the block, block indent, lines after) around the one
    `ZipFile: |` literal block (blank lines at its end stay outside)."""
    lines = text.split("\n")
    keys = [i for i, ln in enumerate(lines) if re.fullmatch(r" *ZipFile: \|", ln)]
    if len(keys) != 1:
        raise ValueError(f"{TEMPLATE}: expected one 'ZipFile: |' block, found {len(keys)}")
    k = keys[0]
    key_ind = len(lines[k]) - len(lines[k].lstrip(" "))
    end = k + 1
    while end < len(lines) and (not lines[end].strip() or
                                len(lines[end]) - len(lines[end].lstrip(" ")) > key_ind):
        end += 1
    while end > k + 1 and not lines[end - 1].strip():
        end -= 1
    return lines[: k + 1], " " * (key_ind + 2), lines[end:]


def inline_code():
    """The ZipFile text as CloudFormation reads it (parsed with cfn-lint's YAML loader)."""
    from cfnlint.decode import cfn_yaml

    tpl = cfn_yaml.load(TEMPLATE)
    return str(tpl["Resources"]["Provider"]["Properties"]["Code"]["ZipFile"])


def handler_code():
    with open(HANDLER, encoding="utf-8") as f:
        return f.read()


def write():
    with open(TEMPLATE, encoding="utf-8") as f:
        before, ind, after = split_template(f.read())
    block = [ind + ln if ln else "" for ln in handler_code().rstrip("\n").split("\n")]
    with open(TEMPLATE + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(before + block + after))
    os.replace(TEMPLATE + ".tmp", TEMPLATE)


def main(argv):
    if argv[1:] == ["--write"]:
        write()
    if inline_code() != handler_code():
        print("cfn/subnet-cidr-reservations-lambda.yaml ZipFile differs from cfn/lambda/subnet_cidr_reservation.py;"
              " run: python3 test/cfn/sync_inline.py --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
