"""A small strategy map the figures and widgets have never seen, with hostile names."""

from __future__ import annotations

from typing import Any

SCRIPT = "<script>window.__pwned=1</script>"
IMG = "<img src=x onerror=alert(1)>"


def tiny_model_dict() -> dict[str, Any]:
    """Four objectives in a chain a → b → c → d (c → d lagged), an inverse link e → d,
    an OKR aligned to c, and an unrelated objective f."""
    return {
        "stratlab": 1,
        "name": f"Tiny {SCRIPT}",
        "mission": f"Mission {IMG}",
        "period": "quarter",
        "objectives": [
            {"id": "a", "name": f"Alpha {SCRIPT}", "perspective": "learning"},
            {"id": "b", "name": "Beta", "perspective": "process"},
            {"id": "c", "name": f"Gamma {IMG}", "perspective": "customer"},
            {"id": "e", "name": "Epsilon", "perspective": "customer"},
            {"id": "d", "name": "Delta", "perspective": "financial"},
            {"id": "f", "name": "Phi (unrelated)", "perspective": "process"},
        ],
        "measures": [
            {
                "id": "m_a",
                "name": f"Measure {IMG}",
                "objective": "a",
                "baseline": 0,
                "target": 10,
                "current": 3,
                "unit": SCRIPT,
            },
            {
                "id": "m_b",
                "name": "Cycle time",
                "objective": "b",
                "direction": "lower",
                "baseline": 20,
                "target": 10,
                "current": 16,
                "unit": "days",
            },
            {
                "id": "m_c",
                "name": "Satisfaction",
                "objective": "c",
                "baseline": 50,
                "target": 90,
                "current": 80,
                "unit": "%",
            },
            {
                "id": "m_e",
                "name": "Complaints",
                "objective": "e",
                "direction": "lower",
                "baseline": 10,
                "target": 2,
                "current": 8,
                "unit": "n",
            },
            {
                "id": "m_d",
                "name": "Revenue",
                "objective": "d",
                "baseline": 0,
                "target": 100,
                "current": 40,
                "unit": "k",
            },
            {
                "id": "m_f",
                "name": "Audit",
                "objective": "f",
                "baseline": 0,
                "target": 1,
                "current": 0.5,
            },
        ],
        "links": [
            {"from": "a", "to": "b", "weight": 0.6, "rationale": f"because {SCRIPT}"},
            {"from": "b", "to": "c", "weight": 0.5},
            {"from": "c", "to": "d", "weight": 0.7, "lag": 1},
            {"from": "e", "to": "d", "weight": -0.3},
        ],
        "okrs": [
            {
                "id": "o1",
                "objective": f"Win {IMG}",
                "aligns_to": "c",
                "key_results": [
                    {
                        "id": "kr1",
                        "name": "Signups",
                        "start": 0,
                        "target": 10,
                        "current": 4,
                        "unit": "k",
                        "confidence": 0.5,
                    },
                ],
            }
        ],
    }


def tiny_model() -> Any:
    from stratlab.io import load_model

    return load_model(tiny_model_dict())


def all_strings(obj: Any) -> list[str]:
    """Every string inside a nested plotly JSON structure."""
    out: list[str] = []
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            out += all_strings(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            out += all_strings(v)
    else:
        try:
            import numpy as np

            if isinstance(obj, np.ndarray) and obj.dtype == object:
                for v in obj.ravel():
                    out += all_strings(v)
        except ImportError:  # pragma: no cover
            pass
    return out
