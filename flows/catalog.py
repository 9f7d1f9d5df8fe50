"""Loading and validating flow definitions from TOML files."""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from flows.check import check_text, flow_files, purpose_conflicts, shipped_definitions
from flows.i18n import Translator, translator
from flows.models import FlowDefinition

DEFAULT_FLOW_ID = "feedback"

log = logging.getLogger("flows.catalog")


class FlowDefinitionError(ValueError):
    """A flow definition file cannot be used; the message names the file, line and problem."""


def load_flow(text: str, source: str, t: Translator | None = None) -> FlowDefinition:
    """Parse and validate one definition; raises FlowDefinitionError naming `source`, in
    the language of `t` (the operator's; English by default).

    Warnings (a missing translation, ...) are logged, in English like every log line;
    `feedbackbot check` explains them.
    """
    english = translator("en")
    report = check_text(text, source, english)
    for finding in report.warnings:
        log.warning("flow definition %s:%d: %s", finding.source, finding.line, finding.message)
    if report.errors or report.flow is None:
        if t is not None and t != english:
            report = check_text(text, source, t)
        raise FlowDefinitionError(
            "; ".join(f"{f.source}:{f.line}: {f.message}" for f in report.errors)
        )
    return report.flow


@dataclass(frozen=True)
class FlowCatalog:
    """Every flow the bot can run, by id; `default` is the one plain /start runs."""

    flows: dict[str, FlowDefinition]
    default_id: str = DEFAULT_FLOW_ID

    @property
    def default(self) -> FlowDefinition:
        return self.flows[self.default_id]

    def start_command(self, flow_id: str) -> str:
        """The command that begins `flow_id`: /start alone begins the default survey, and
        another's name goes after it ("/start product"; found by a customer walk-through:
        declining the product survey was told "send /start", which showed another survey's
        request); /start for a flow not loaded."""
        if flow_id == self.default_id or flow_id not in self.flows:
            return "/start"
        return f"/start {flow_id}"

    def get(self, flow_id: str | None) -> FlowDefinition | None:
        """The flow a deep link names (ids are lower case; a link typed as "Product"
        still finds it), the default for none, None for an unknown one."""
        return self.default if not flow_id else self.flows.get(flow_id.strip().lower())

    @classmethod
    def load(
        cls,
        extra_dir: Path | None = None,
        t: Translator | None = None,
        shipped: Collection[str] | None = None,
    ) -> FlowCatalog:
        """The shipped definitions (only those named in `shipped`, when given:
        FEEDBACKBOT_SHIPPED_FLOWS) plus those in `extra_dir` (which may replace a shipped
        one); FlowDefinitionError in the language of `t` (English by default)."""
        t = t or translator("en")
        flows: dict[str, FlowDefinition] = {}
        for source, text in shipped_definitions():
            flow = load_flow(text, source)
            if shipped is None or flow.id in shipped:
                flows[flow.id] = flow
        if extra_dir is not None:
            own: dict[str, Path] = {}
            for path in flow_files(extra_dir):
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as error:
                    reason = t.reason(error)
                    message = t.gettext("cannot be read: {reason}").format(reason=reason)
                    raise FlowDefinitionError(f"{path}: {message}") from None
                flow = load_flow(text, str(path), t)
                if flow.id in own:  # a copy left in the folder would silently take over
                    message = t.gettext("the flow id '{id}' is also used by {other}").format(
                        id=flow.id, other=own[flow.id]
                    )
                    raise FlowDefinitionError(f"{path}: {message}")
                own[flow.id] = path
                flows[flow.id] = flow
        conflicts = purpose_conflicts(list(flows.values()))
        if conflicts:
            raise FlowDefinitionError(
                "; ".join(
                    t.gettext(
                        "flow '{flow}' describes the purpose '{purpose}' differently from flow "
                        "'{other}': a purpose id means one thing in every flow"
                    ).format(flow=flow.id, purpose=purpose, other=other.id)
                    for flow, purpose, other in conflicts
                )
            )
        if DEFAULT_FLOW_ID not in flows:
            raise FlowDefinitionError(
                t.gettext(
                    "no flow with id '{flow}' to run on plain /start: without the shipped one "
                    "(FEEDBACKBOT_SHIPPED_FLOWS), one of your flows must have that id"
                ).format(flow=DEFAULT_FLOW_ID)
            )
        return cls(flows=flows)


@functools.cache
def shipped_flow_ids() -> tuple[str, ...]:
    """The ids of the flows shipped with the package, in file name order."""
    return tuple(load_flow(text, source).id for source, text in shipped_definitions())
