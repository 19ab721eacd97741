"""Shared helpers of the cfn tests: paths, template loading (cfn-lint's YAML
loader understands !Ref and friends), a small resolver for the intrinsics the
tests need, and the simulator import."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CFN = os.path.join(ROOT, "cfn")
SIM_DIR = os.path.join(ROOT, "test", "aws-sim")
TEMPLATES = sorted(os.path.join(CFN, f) for f in os.listdir(CFN) if f.endswith(".yaml"))

if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)


def load(name):
    """The template cfn/<name> as plain dicts (short-form tags become Fn::X / Ref)."""
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.load(os.path.join(CFN, name))


def plain(node):
    """cfn-lint's str_node/dict_node subclasses -> plain Python types."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


NO_VALUE = object()


def condition_values(tpl, params):
    """Evaluate every Condition of tpl with params (Ref to parameters, Fn::Equals/
    Not/And/Or, Condition)."""
    conds = tpl.get("Conditions", {})
    out = {}

    def ev(n):
        if isinstance(n, dict) and len(n) == 1:
            (k, v), = n.items()
            if k == "Fn::Equals":
                return value(v[0]) == value(v[1])
            if k == "Fn::Not":
                return not ev(v[0])
            if k == "Fn::And":
                return all(ev(x) for x in v)
            if k == "Fn::Or":
                return any(ev(x) for x in v)
            if k == "Condition":
                return get(v)
        raise ValueError(f"condition not understood: {n!r}")

    def value(n):
        if isinstance(n, dict) and "Ref" in n:
            return str(params[n["Ref"]])
        return str(n)

    def get(name):
        if name not in out:
            out[name] = ev(conds[name])
        return out[name]

    for name in conds:
        get(name)
    return out


def resolve(node, params, conds):
    """Resolve Ref (parameters, AWS::NoValue) and Fn::If; leave other intrinsics."""
    if isinstance(node, list):
        return [x for x in (resolve(v, params, conds) for v in node) if x is not NO_VALUE]
    if isinstance(node, dict):
        if len(node) == 1:
            (k, v), = node.items()
            if k == "Ref" and v == "AWS::NoValue":
                return NO_VALUE
            if k == "Ref" and v in params:
                return params[v]
            if k == "Fn::If":
                return resolve(v[1] if conds[v[0]] else v[2], params, conds)
        out = {}
        for k, v in node.items():
            r = resolve(v, params, conds)
            if r is not NO_VALUE:
                out[str(k)] = r
        return out
    return plain(node)


def parameter_defaults(tpl):
    return {k: str(v.get("Default", "")) for k, v in tpl.get("Parameters", {}).items()}
