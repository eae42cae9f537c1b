// A frame on the simulated CAN bus from an identifier and data: a standard frame unless
// `is_extended_id` says otherwise (python-can's Message defaults to extended).
import type { BusFrame } from "../../host-sim/devices/can-bus.ts";
import { busFrame as checked, type CanMessage } from "../../host-sim/devices/can-message.ts";

export function busFrame(id: number, data: number[] = [], options: Omit<CanMessage, "arbitration_id" | "data"> = {}): BusFrame {
  return checked({ arbitration_id: id, data, is_extended_id: false, ...options });
}
