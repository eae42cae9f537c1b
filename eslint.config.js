// @ts-check
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // Native bindings use Moddable's host-function syntax (`@ "xs_..."`), which is not JavaScript.
  { ignores: ["node_modules/", "build/", "dist/", "drivers/**/esp32/*-native.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["host-sim/*.ts", "host-sim/*.js", "host-sim/worker/*.js", "host-sim/devices/**/*.ts", "test/*/*.ts", "examples/ci/test/*.js", "bench/*.ts", "bin/**/*.js", "eslint.config.js"],
    languageOptions: { globals: { ...globals.node, ...globals.mocha } },
  },
  {
    // Firmware runs on XS: no Node modules, no Node globals.
    files: ["src/**/*.ts", "drivers/**/*.ts", "examples/**/*.ts", "host-sim/xs/**/*.ts", "test/fixtures/**/*.ts", "bench/apps/**/*.ts"],
    ignores: ["examples/ci/test/**"],
    languageOptions: { globals: { trace: "readonly" } },
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["node:*", "fs", "dgram", "child_process", "os", "path"], message: "firmware runs on XS: use Moddable modules" }] }],
      "no-restricted-globals": ["error", "process", "Buffer", "require", "setTimeout", "setInterval", "setImmediate", "__dirname"],
    },
  },
  {
    // An app's tsconfig.json includes this one file, so it reaches the rest by reference.
    files: ["types/*.d.ts"],
    rules: { "@typescript-eslint/triple-slash-reference": "off" },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
