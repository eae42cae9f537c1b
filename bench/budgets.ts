// Budgets for the firmware's own costs, which XS counts deterministically (bench/costs.ts
// measures them; test/sim/budgets.test.ts holds them). `from` is the figure each was set from,
// by `npm run bench:costs`. A change that costs more fails the test, naming the figure; when a
// change makes the firmware cheaper, lower the limit here.
export const budgets = {
  /** `AT`, echo on, from its line to its OK. */
  atRoundTrip: { limit: 4400, unit: "computrons", from: "4,271 on 2026-12-07, the console reading a line a run at a time, and looking a name up among those of its letter first" },
  /** `AT+CIPSEND=0,1024`, its payload in one write, to SEND OK. */
  cipsend1KiB: { limit: 12300, unit: "computrons", from: "11,929 on 2026-12-07, the console reading a line a run at a time" },
  /** 1 KiB from a TCP peer to its `+IPD,0,1024:` line on the UART. */
  ipd1KiB: { limit: 3450, unit: "computrons", from: "3,348 on 2026-12-07, with issue 23's cuts, the message filter's hook, and writes to one stream joined in a delivery" },
  /** xsock/socket: one 32-byte echo on an open connection (bench/apps/bulk). */
  socketRoundTrip: { limit: 2150, unit: "computrons", from: "2,058 on 2026-12-07, with issue 23's cuts, the message filter's hook, and writes to one stream joined in a delivery" },
  /** xsock/socket: accept of a connection, and the first recv on it. */
  accept: { limit: 6650, unit: "computrons", from: "6,462 on 2026-12-07, after issue 23's cuts" },
  /** The console firmware's live heap after boot, beyond XS's built-ins and the preloaded modules. */
  slotsAfterBoot: { limit: 3300, unit: "slots", from: "3,205 on 2026-12-07, with the preload shared as the chip's flash (xsock-worker.c): the aliases of the preloaded objects and closures that boot changes now count in the board's heap, as on the chip (3,070 unshared, XSOCK_SHARE=0)" },
  /** An open idle TCP socket of xsock/socket (16 bytes a slot on the ESP32). */
  slotsPerIdleSocket: { limit: 50, unit: "slots", from: "47 on 2026-12-07: one more socket after a first (which copies the socket module's preloaded state into the board's heap once), with the preload shared as the chip's flash, and a socket's three end flags in one field" },
  /** An AT link (CIPMUX=1, TCP) open and idle. */
  slotsPerLink: { limit: 200, unit: "slots", from: "190 on 2026-12-07, with the preload shared as the chip's flash (256 before)" },
} satisfies Record<string, { limit: number; unit: "computrons" | "slots"; from: string }>;

export type CostName = keyof typeof budgets;
