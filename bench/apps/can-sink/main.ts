// A CAN sink for bench/can.ts: counts the data frames can0 receives. A standard frame 0x7FF
// asks for the count: it answers with frame 0x7FE, the count as 4 bytes little-endian.
import { canInterface, type CanReceiver } from "xsock/can";
import { CAN_ERR_FLAG, canFrame } from "xsock/can-frame";

const REPORT = 0x7ff;
const COUNT = 0x7fe;

const can0 = canInterface();
can0.start();
let count = 0;
const sink: CanReceiver = (frame, own) => {
  if (own || frame.can_id & CAN_ERR_FLAG) return;
  if (frame.can_id !== REPORT) {
    count++;
    return;
  }
  try {
    can0.send(canFrame(COUNT, [count & 0xff, (count >>> 8) & 0xff, (count >>> 16) & 0xff, (count >>> 24) & 0xff]), sink);
  } catch (e) {
    trace(`sink: cannot report: ${(e as Error).message}\n`);
  }
};
can0.subscribe(sink);
trace("sink: ready\n");
