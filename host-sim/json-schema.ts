// JSON Schema checks (board files, scenarios), with ajv loaded on first use: loading it takes
// a large share of a `xsock --help`, which checks nothing.
import type { ErrorObject, ValidateFunction } from "ajv";
import { createRequire } from "node:module";

export type { ErrorObject, ValidateFunction };

export function compileSchema(schema: object): ValidateFunction {
  const { Ajv } = createRequire(import.meta.url)("ajv") as typeof import("ajv");
  return new Ajv({ allErrors: true }).compile(schema);
}
