// How many cases a fuzz property runs: its CI figure, or FUZZ_RUNS (npm run soak sets 100,000).
export const runs = (ci: number): number => (process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : ci);
