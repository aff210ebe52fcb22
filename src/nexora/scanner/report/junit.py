"""JUnit XML, for CI systems that show test reports: one failing test case per finding."""

from __future__ import annotations

from xml.etree import ElementTree

from nexora.scanner.report.context import ReportContext


def render(context: ReportContext) -> str:
    """A ``testsuites`` document; a clean scan is a single passing test case."""
    count = len(context.findings)
    suites = ElementTree.Element("testsuites", name="nexora scan", tests=str(max(count, 1)), failures=str(count))
    suite = ElementTree.SubElement(
        suites,
        "testsuite",
        name="nexora scan",
        tests=str(max(count, 1)),
        failures=str(count),
        errors="0",
        time=f"{context.elapsed:.3f}",
    )
    for finding in context.findings:
        case = ElementTree.SubElement(
            suite, "testcase", classname=finding.path, name=f"{finding.rule_id} at {finding.path}:{finding.line}"
        )
        failure = ElementTree.SubElement(
            case, "failure", type=finding.rule_id, message=f"{finding.title}: {context.shown(finding)}"
        )
        failure.text = (
            f"{finding.path}:{finding.line}:{finding.column} {finding.title} ({finding.severity}, "
            f"{finding.confidence} confidence) value {context.shown(finding)} fingerprint {finding.fingerprint}"
        )
    if not count:
        ElementTree.SubElement(suite, "testcase", classname="nexora scan", name="no secrets found")
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
