// A scenario's result as JUnit XML, the report CI systems display: a testsuite, a testcase per step.
import type { ScenarioResult } from "./scenario-run.ts";

const xml = (text: string) =>
  // XML 1.0 has no place for most control characters, even escaped.
  // eslint-disable-next-line no-control-regex
  text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * The report; `output` (the UART's) goes in the suite's system-out. A failed step names the
 * run's `attachments` (its pcap and trace) in its own system-out as `[[ATTACHMENT|path]]`,
 * which Jenkins' JUnit Attachments plugin and GitLab's test reports show with the test case.
 */
export function junitReport(result: ScenarioResult, options: { timestamp: Date; output?: string; log?: string; attachments?: string[] }): string {
  const failures = result.steps.filter((s) => s.status === "failed").length;
  const skipped = result.steps.filter((s) => s.status === "skipped").length;
  const counts = `tests="${result.steps.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(result.ms)}"`;
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="xsock sim" ${counts}>`,
    `  <testsuite name="${xml(result.name)}" ${counts} timestamp="${options.timestamp.toISOString().slice(0, 19)}">`,
  ];
  for (const step of result.steps) {
    const open = `    <testcase classname="${xml(result.name)}" name="${xml(`${step.index}. ${step.title}`)}" time="${seconds(step.ms)}"`;
    if (step.status === "passed") lines.push(`${open}/>`);
    else if (step.status === "skipped") lines.push(`${open}>`, `      <skipped message="an earlier step failed"/>`, `    </testcase>`);
    else {
      const message = step.error!.split("\n")[0];
      const attached = options.attachments?.length ? [`      <system-out>${options.attachments.map((path) => xml(`[[ATTACHMENT|${path}]]`)).join("\n")}</system-out>`] : [];
      lines.push(`${open}>`, `      <failure message="${xml(message)}" type="${step.action}">${xml(step.error!)}</failure>`, ...attached, `    </testcase>`);
    }
  }
  if (options.output !== undefined) lines.push(`    <system-out>${xml(options.output)}</system-out>`);
  if (options.log) lines.push(`    <system-err>${xml(options.log)}</system-err>`);
  lines.push(`  </testsuite>`, `</testsuites>`, ``);
  return lines.join("\n");
}
