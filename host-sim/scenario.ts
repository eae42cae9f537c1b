// Scenario files (`xsock sim --scenario FILE.yaml`): loading, and checking against the schema
// that ships in the package, with errors that name the step and the field.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { compileSchema, type ErrorObject, type ValidateFunction } from "./json-schema.ts";
import { packagePath } from "./package-root.ts";
import type { CanMessage } from "./devices/can-message.ts";
import type { FaultKind } from "./faults.ts";

export const SCENARIO_SCHEMA = packagePath("host-sim", "scenario.schema.json");

type Bytes = string | number[];
type Wait = string | { text: string; timeout?: number | string };
type Duration = number | string;
/** A CAN frame in python-can's Message fields, data as hex text or a list of bytes. */
type CanFields = Omit<CanMessage, "data" | "timestamp"> & { data?: string | number[] };

/** A step: a name, if any, and exactly one action. */
export interface Step {
  name?: string;
  "wait-serial"?: Wait;
  "wait-serial-regex"?: Wait;
  "write-serial"?: Bytes;
  delay?: Duration;
  "tcp-connect"?: number | { port: number; host?: string; as?: string; timeout?: Duration };
  "tcp-send"?: Bytes | { data: Bytes; on?: string };
  "tcp-expect"?: string | { text: string; on?: string; timeout?: Duration };
  "tcp-close"?: null | string | { on?: string };
  "udp-send"?: { port: number; host?: string; data: Bytes; from?: number };
  "udp-expect"?: string | { text: string; on?: number; timeout?: Duration };
  "can-send"?: CanFields;
  "can-expect"?: Partial<CanFields> & { timeout?: Duration };
  fault?: FaultKind | { kind: FaultKind; for?: Duration };
}

export type Action = Exclude<keyof Step, "name">;

export interface Scenario {
  name: string;
  version?: 1;
  description?: string;
  /** Where the run's pcapng capture goes, relative to the scenario file (--pcap overrides it). */
  pcap?: string;
  /** Where the run's timeline (Chrome trace event format) goes, relative to the scenario file (--trace overrides it). */
  trace?: string;
  steps: Step[];
}

let validate: ValidateFunction | undefined;
let actions: Action[] | undefined;

/** The actions a step may have, from the schema. */
export function stepActions(): Action[] {
  schema();
  return actions!;
}

function schema(): ValidateFunction {
  if (!validate) {
    const json = JSON.parse(readFileSync(SCENARIO_SCHEMA, "utf8")) as { definitions: { step: { properties: Record<string, unknown> } } };
    actions = Object.keys(json.definitions.step.properties).filter((k) => k !== "name") as Action[];
    validate = compileSchema(json);
  }
  return validate;
}

/** The action of a checked step. */
export const actionOf = (step: Step): Action => stepActions().find((a) => a in step)!;

/** Loads and checks a scenario file; throws an error that names each bad step and field. */
export function loadScenario(path: string): Scenario {
  let data: unknown;
  try {
    data = parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`bad scenario ${path}: ${(e as Error).message}`, { cause: e });
  }
  return checkScenario(data, path);
}

export function checkScenario(data: unknown, source: string): Scenario {
  const problems: string[] = [];
  if (!schema()(data)) problems.push(...describeErrors(schema().errors ?? [], data));
  const steps = (data as Scenario | null)?.steps;
  if (Array.isArray(steps)) {
    steps.forEach((step, i) => {
      if (typeof step !== "object" || step === null) return;
      const found = stepActions().filter((a) => a in step);
      const others = Object.keys(step).filter((k) => k !== "name" && !found.includes(k as Action));
      // A step with an unknown action has been reported already.
      if (found.length > 1 || (!found.length && !others.length))
        problems.push(`${where(data, `/steps/${i}`)}: a step has exactly one action (${found.length ? found.join(" and ") : "none found"}); the actions are ${stepActions().join(", ")}`);
    });
  }
  const stepOf = (problem: string) => Number(/^step (\d+)/.exec(problem)?.[1] ?? 0);
  problems.sort((a, b) => stepOf(a) - stepOf(b));
  if (problems.length) throw new Error(`bad scenario ${source}:\n  ${[...new Set(problems)].join("\n  ")}`);
  return data as Scenario;
}

/** `/steps/2/wait-serial/timeout` becomes `step 3 ("joins"): wait-serial.timeout`. */
function where(data: unknown, path: string): string {
  const m = /^\/steps\/(\d+)(?:\/(.*))?$/.exec(path);
  if (!m) return path ? path.slice(1).replaceAll("/", ".") : "the scenario";
  const name = (data as Scenario).steps[Number(m[1])]?.name;
  const step = `step ${Number(m[1]) + 1}${name ? ` (${JSON.stringify(name)})` : ""}`;
  return m[2] ? `${step}: ${m[2].replaceAll("/", ".")}` : step;
}

/** One message per bad field: the most telling of ajv's errors there (oneOf reports every branch). */
function describeErrors(errors: ErrorObject[], data: unknown): string[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: string[] = [];
  for (const [path, list] of byPath) {
    // A field of the object form is wrong: the other forms' type errors would only confuse.
    const deeper = [...byPath.keys()].some((p) => p.startsWith(`${path}/`));
    if (deeper && list.every((e) => ["type", "oneOf"].includes(e.keyword))) continue;
    const at = where(data, path);
    const unknown = list.filter((e) => e.keyword === "additionalProperties");
    const missing = list.filter((e) => e.keyword === "required");
    const other = list.find((e) => ["enum", "pattern", "minimum", "maximum", "minLength", "minItems", "const", "minProperties"].includes(e.keyword));
    const types = [...new Set(list.filter((e) => e.keyword === "type").map((e) => String(e.params.type)))];
    if (unknown.length) {
      const field = String(unknown[0].params.additionalProperty);
      const isStep = /^\/steps\/\d+$/.test(path);
      out.push(isStep ? `${at}: unknown action "${field}"; the actions are ${stepActions().join(", ")}` : `${at}: unknown field "${field}"`);
    } else if (missing.length) out.push(`${at}: missing field "${String(missing[0].params.missingProperty)}"`);
    else if (other?.keyword === "enum") out.push(`${at}: must be one of ${(other.params.allowedValues as unknown[]).join(", ")}`);
    else if (other?.keyword === "pattern" && String(other.params.pattern).includes("ms|s")) out.push(`${at}: must be a duration: 100ms, 2s or a number of milliseconds`);
    else if (other?.keyword === "pattern" && String(other.params.pattern).includes("0-9a-fA-F")) out.push(`${at}: must be hex bytes ("01 02 ff") or a list of byte values`);
    else if (other) out.push(`${at}: ${other.message}`);
    else if (types.length) out.push(`${at}: must be ${types.join(" or ")}`);
  }
  // Errors below a field explain it better than the field's own oneOf.
  return out.length ? out : errors.map((e) => `${where(data, e.instancePath)}: ${e.message}`);
}
