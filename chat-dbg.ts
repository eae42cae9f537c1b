import { startSim } from "./host-sim/api.ts";
import { connect } from "node:net";
const N = Number(process.env.N), M = Number(process.env.M);
const board = await startSim({ app: "examples/chat-server", verbose: !!process.env.V, log: (l) => process.env.V && console.log("LOG", l) });
await board.waitLog(/Chat server started/);
const got: string[] = [];
const socks = [];
for (let i = 0; i < N; i++) { const s = connect(5000, "127.0.0.1"); s.setEncoding("latin1"); got[i] = ""; s.on("data", (d: string) => (got[i] += d)); await new Promise((r) => s.once("connect", r)); socks.push(s); }
await new Promise((r) => setTimeout(r, 500));
for (let m = 0; m < M; m++) for (const [i, s] of socks.entries()) s.write(`m ${i} ${m}\n`);
await new Promise((r) => setTimeout(r, 3000));
console.log(got.map((g) => (g.match(/m \d+ \d+\n/g) ?? []).length).join(" "), "of", (N - 1) * M, "heap", board.heap());
for (const s of socks) s.destroy();
await board.stop();
