import type { Command } from "commander";
export function registerTest(program: Command): void {
  void program;
}
