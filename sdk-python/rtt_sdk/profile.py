"""Profile and payload helpers with the seeds' names (create_profile, build_validate_payload)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

CAPABILITIES = ("coherence", "drift", "corridor", "topology")


def create_profile(
    version: str,
    supports: Iterable[str],
    contact: Optional[str] = None,
    scope: Optional[str] = None,
    name: Optional[str] = None,
    latency_budget_ms: Optional[float] = None,
) -> Dict[str, Any]:
    """Build a profile for RTTClient.set_profile.

    scope ("service" | "cluster") and name choose the metric label: rtt_beacons_total{cluster="east"}.
    latency_budget_ms is the default budget for corridor analysis of this site's flows.
    Mistakes raise ValueError here instead of a 400 later.
    """
    if not isinstance(version, str) or not version:
        raise ValueError("create_profile: version must be a non-empty string")
    caps: List[str] = []
    for cap in supports:
        if cap not in CAPABILITIES:
            raise ValueError(f"create_profile: unknown capability {cap!r} (known: {', '.join(CAPABILITIES)})")
        if cap not in caps:
            caps.append(cap)
    if scope is not None and scope not in ("service", "cluster"):
        raise ValueError("create_profile: scope must be 'service' or 'cluster'")
    profile: Dict[str, Any] = {"version": version, "supports": caps}
    if contact is not None:
        profile["contact"] = contact
    if scope is not None:
        profile["scope"] = scope
    if name is not None:
        profile["name"] = name
    if latency_budget_ms is not None:
        profile["latency_budget_ms"] = latency_budget_ms
    return profile


def build_validate_payload(
    system_map: Dict[str, Any],
    flows: Optional[List[Dict[str, Any]]] = None,
    constraints: Optional[List[Dict[str, Any]]] = None,
) -> Dict[str, Any]:
    """The POST /api/rtt/validate payload: {system_map, flows, constraints}."""
    if not isinstance(system_map, dict):
        raise ValueError("build_validate_payload: system_map must be a dict")
    return {"system_map": system_map, "flows": list(flows or []), "constraints": list(constraints or [])}


def rtt_span_attributes(
    site: str,
    session: Optional[str] = None,
    event: Optional[str] = None,
    beacon: Optional[Dict[str, Any]] = None,
    profile_version: Optional[str] = None,
) -> Dict[str, Any]:
    """RTT metadata as OpenTelemetry span attributes (span.set_attributes(...)); same names as the JS SDK."""
    attrs: Dict[str, Any] = {"rtt.site": site}
    if session is not None:
        attrs["rtt.session"] = session
    if event is not None:
        attrs["rtt.event"] = event
    if profile_version is not None:
        attrs["rtt.profile.version"] = profile_version
    if beacon:
        attrs["rtt.structure.fingerprint"] = beacon["fingerprint"]
        attrs["rtt.drift.state"] = beacon["drift_state"]
        if beacon.get("drift"):
            attrs["rtt.drift.kinds"] = [d["kind"] for d in beacon["drift"]]
    return attrs
